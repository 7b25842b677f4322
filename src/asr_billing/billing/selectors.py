"""Billing reads: voluntary blocks."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from asr_billing.billing.models import VoluntaryBlock


def voluntary_blocks_current(day: date) -> QuerySet[VoluntaryBlock]:
    """Voluntary blocks in force on ``day`` (a local date) or planned after it, of every
    subscriber, earliest first: a subscriber's first one is its current block (for a
    prefetch across many subscribers)."""
    return VoluntaryBlock.objects.filter(ended_at__isnull=True, end_date__gte=day).order_by(
        "start_date", "id"
    )


def voluntary_block_current(subscriber_id: int, day: date) -> VoluntaryBlock | None:
    """The subscriber's voluntary block in force on ``day`` (a local date), else the next
    planned one; None when there is neither. This is the block that lifting "the" block
    lifts (or cancels). One query."""
    return voluntary_blocks_current(day).filter(subscriber_id=subscriber_id).first()
