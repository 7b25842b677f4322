"""Subscriber reads."""

from __future__ import annotations

import pytest

from asr_billing.subscribers.models import Group
from asr_billing.subscribers.selectors import group_descendant_ids, subscriber_in_block

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


@pytest.mark.parametrize(
    ("negbal", "admin_blocked", "voluntary_blocked", "expected"),
    [
        (False, False, False, False),
        (True, False, False, True),
        (False, True, False, True),
        (False, False, True, True),
        (True, True, True, True),
    ],
)
def test_subscriber_in_block(subscriber, negbal, admin_blocked, voluntary_blocked, expected):
    subscriber.negbal, subscriber.admin_blocked = negbal, admin_blocked
    subscriber.voluntary_blocked = voluntary_blocked
    assert subscriber_in_block(subscriber) is expected
