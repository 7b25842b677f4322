"""Subscriber reads."""

from __future__ import annotations

import pytest

from asr_billing.subscribers.models import Group
from asr_billing.subscribers.selectors import group_descendant_ids

pytestmark = pytest.mark.django_db


def test_group_descendants_in_tree_order_of_levels(group):
    child = Group.objects.create(name="Child", parent=group)
    grandchild = Group.objects.create(name="Grandchild", parent=child)
    Group.objects.create(name="Elsewhere")
    assert group_descendant_ids(group.pk) == [group.pk, child.pk, grandchild.pk]
    assert group_descendant_ids(grandchild.pk) == [grandchild.pk]


def test_group_descendants_end_on_a_cycle_in_the_database(group):
    # The admin refuses a cycle, but one written by SQL must not make an API call loop.
    child = Group.objects.create(name="Child", parent=group)
    Group.objects.filter(pk=group.pk).update(parent=child)
    assert sorted(group_descendant_ids(group.pk)) == sorted([group.pk, child.pk])
