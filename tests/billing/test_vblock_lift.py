"""voluntary_block_lift: which block lifting "the" voluntary block ends, and the refusal
when there is none."""

from __future__ import annotations

from datetime import date

import pytest

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.billing.services import voluntary_block_create, voluntary_block_lift
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.subscribers.models import Subscriber
from tests.billing.conftest import at, balance

TODAY = date(2026, 3, 5)


def snapshot(sub):
    return (
        list(VoluntaryBlock.objects.filter(subscriber=sub).order_by("pk")
             .values_list("pk", "ended_at")),
        Subscriber.objects.get(pk=sub.pk).voluntary_blocked,
        balance(sub),
        AuditEntry.objects.count(),
    )


def test_none_to_lift_is_refused_and_changes_nothing(subscriber):
    with at(TODAY, 10):
        old = voluntary_block_create(subscriber=subscriber, start_date=TODAY,
                                     end_date=date(2026, 3, 6), actor="cabinet")
    with at(date(2026, 3, 7), 10):  # that block is over
        before = snapshot(subscriber)
        with pytest.raises(InvalidInput) as caught:
            voluntary_block_lift(subscriber=subscriber, actor="cabinet")
    assert (caught.value.message, caught.value.code) == (
        "There is no voluntary block to lift", "no_block")
    assert snapshot(subscriber) == before
    assert VoluntaryBlock.objects.get(pk=old.pk).ended_at is None


def test_lifts_the_current_block(subscriber):
    with at(TODAY, 10):
        block = voluntary_block_create(subscriber=subscriber, start_date=TODAY,
                                       end_date=date(2026, 3, 20), actor="cabinet")
    assert Subscriber.objects.get(pk=subscriber.pk).voluntary_blocked
    with at(date(2026, 3, 9), 15):
        result = voluntary_block_lift(subscriber=subscriber, actor="cabinet")
    assert result.block.pk == block.pk
    assert result.message == "Добровольная блокировка успешно снята"
    assert VoluntaryBlock.objects.get(pk=block.pk).ended_at is not None
    assert not Subscriber.objects.get(pk=subscriber.pk).voluntary_blocked


def test_cancels_the_planned_block(subscriber):
    with at(TODAY, 10):
        planned = voluntary_block_create(subscriber=subscriber, start_date=date(2026, 3, 10),
                                         end_date=date(2026, 3, 20), actor="cabinet")
    with at(TODAY, 11):
        result = voluntary_block_lift(subscriber=subscriber, actor="cabinet")
    assert result.block.pk == planned.pk
    assert VoluntaryBlock.objects.get(pk=planned.pk).ended_at is not None
    with at(TODAY, 12), pytest.raises(InvalidInput):
        voluntary_block_lift(subscriber=subscriber, actor="cabinet")
