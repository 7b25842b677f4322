"""Billing reads: which voluntary block is a subscriber's current one."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.billing.selectors import voluntary_block_current, voluntary_blocks_current

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 5)


def block(subscriber, start, end, *, ended=False):
    return VoluntaryBlock.objects.create(subscriber=subscriber, start_date=start, end_date=end,
                                         ended_at=timezone.now() if ended else None)


def test_current_then_planned_then_none(subscriber, make_subscriber):
    assert voluntary_block_current(subscriber.pk, DAY) is None
    block(subscriber, date(2026, 2, 1), date(2026, 3, 4))  # over the day before
    block(subscriber, date(2026, 3, 1), date(2026, 3, 20), ended=True)  # lifted early
    planned = block(subscriber, date(2026, 4, 1), date(2026, 4, 10))
    assert voluntary_block_current(subscriber.pk, DAY) == planned
    current = block(subscriber, date(2026, 3, 5), date(2026, 3, 5))  # its last day
    assert voluntary_block_current(subscriber.pk, DAY) == current
    other = make_subscriber()
    assert voluntary_block_current(other.pk, DAY) is None
    block(other, date(2026, 3, 1), date(2026, 3, 31))
    assert [(b.subscriber_id, b.start_date) for b in voluntary_blocks_current(DAY)] == [
        (other.pk, date(2026, 3, 1)), (subscriber.pk, date(2026, 3, 5)),
        (subscriber.pk, date(2026, 4, 1))]
