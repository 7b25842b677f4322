"""subscriber_sync_1c: marking a subscriber synced with 1C needs its 1C code."""

from __future__ import annotations

import pytest

from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_sync_1c
from tests.conftest import ACTOR, db_state

pytestmark = pytest.mark.usefixtures("english")


def state(subscriber) -> tuple:
    row = Subscriber.objects.values_list("code1c", "synced_1c").get(pk=subscriber.pk)
    return row, AuditEntry.objects.count(), db_state()


@pytest.mark.parametrize("code1c", [None, "", "   "])
def test_synced_without_a_code_is_refused_and_changes_nothing(subscriber, code1c):
    before = state(subscriber)
    with pytest.raises(InvalidInput) as caught:
        subscriber_sync_1c(subscriber=subscriber, actor=ACTOR, synced=True, code1c=code1c)
    assert (caught.value.message, caught.value.code) == (
        "Argument code1c is required", "code1c_required")
    assert state(subscriber) == before


def test_clearing_the_code_of_a_synced_subscriber_is_refused(subscriber):
    subscriber_sync_1c(subscriber=subscriber, actor=ACTOR, synced=True, code1c="00-000042")
    before = state(subscriber)
    with pytest.raises(InvalidInput) as caught:
        subscriber_sync_1c(subscriber=subscriber, actor=ACTOR, synced=True, code1c="")
    assert caught.value.message == "Argument code1c is required"
    assert state(subscriber) == before
    assert before[0] == ("00-000042", True)


def test_the_code_held_already_is_enough(subscriber):
    subscriber_sync_1c(subscriber=subscriber, actor=ACTOR, synced=False, code1c="00-000042")
    synced = subscriber_sync_1c(subscriber=subscriber, actor=ACTOR, synced=True)
    assert (synced.code1c, synced.synced_1c) == ("00-000042", True)
    # Unsynced needs no code.
    cleared = subscriber_sync_1c(subscriber=subscriber, actor=ACTOR, synced=False, code1c="")
    assert (cleared.code1c, cleared.synced_1c) == ("", False)
