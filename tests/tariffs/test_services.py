"""Tariff and service writes: validated, audited, and a new threshold applied at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Service, Tariff
from asr_billing.tariffs.services import (
    service_create,
    service_update,
    tariff_create,
    tariff_update,
)
from tests.conftest import ACTOR, db_state

pytestmark = pytest.mark.usefixtures("english")

D = Decimal


def negbal(subscriber) -> bool:
    return Subscriber.objects.get(pk=subscriber.pk).negbal


def test_a_new_threshold_cuts_off_and_restores_subscribers_at_once(make_subscriber, tariff):
    rich, poor = make_subscriber("Rich"), make_subscriber("Poor")
    payment_register(subscriber=rich, amount=D("500.00"), actor=ACTOR)
    payment_register(subscriber=poor, amount=D("50.00"), actor=ACTOR)
    other = make_subscriber("Other tariff", tariff=None)

    tariff_update(tariff=tariff, actor=ACTOR, disconnect_threshold=D("100.00"))
    assert (negbal(rich), negbal(poor), negbal(other)) == (False, True, False)
    entry = AuditEntry.objects.get(action="tariff_update")
    assert (entry.object_id, entry.old, entry.new) == (
        str(tariff.pk), {"disconnect_threshold": "0.00"}, {"disconnect_threshold": "100.00"})
    [cut] = AuditEntry.objects.filter(action="negbal_on")
    assert (cut.subscriber_id, cut.actor, cut.new) == (
        poor.pk, ACTOR, {"negbal": True, "balance": "50.00"})

    tariff_update(tariff=tariff, actor=ACTOR, disconnect_threshold=D("0.00"))
    assert negbal(poor) is False
    assert AuditEntry.objects.filter(action="negbal_off", subscriber=poor).count() == 1


def test_an_unchanged_tariff_writes_nothing(tariff):
    before = db_state()
    tariff_update(tariff=tariff, actor=ACTOR, fee=D("600.00"), name="Home 100")
    assert db_state() == before
    assert not AuditEntry.objects.filter(action="tariff_update").exists()


@pytest.mark.parametrize("fields, message", [
    ({"fee": D("-1.00")}, "fee cannot be negative"),
    ({"voluntary_block_fee": "-0.01"}, "fee during a voluntary block cannot be negative"),
    ({"fee": "abc"}, "fee: “abc” value must be a decimal number."),
    ({"monthly_charge_day": 32}, "monthly charge day: Ensure this value is less than or "
                                 "equal to 31."),
    ({"charge_method": "weekly"}, "charge method: Value 'weekly' is not a valid choice."),
    ({"colour": "red"}, "Unknown fields of tariff: colour"),
])
def test_bad_tariff_values_are_refused_and_change_nothing(tariff, fields, message):
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        tariff_update(tariff=tariff, actor=ACTOR, **fields)
    assert str(info.value) == message
    assert db_state() == before
    tariff.refresh_from_db()
    assert (tariff.fee, tariff.monthly_charge_day) == (D("600.00"), 1)


def test_float_money_is_refused(tariff):
    with pytest.raises(TypeError):
        tariff_update(tariff=tariff, actor=ACTOR, fee=600.5)


def test_create_and_update_are_audited(db):
    created = tariff_create(actor=ACTOR, name="Turbo", fee=D("900.00"))
    assert Tariff.objects.get(pk=created.pk).fee == D("900.00")
    entry = AuditEntry.objects.get(action="tariff_create")
    assert (entry.new["name"], entry.new["fee"]) == ("Turbo", "900.00")
    with pytest.raises(InvalidInput) as info:
        tariff_create(actor=ACTOR, name="Turbo")
    assert str(info.value) == "name: Tariff with this Name already exists."

    service = service_create(actor=ACTOR, name="Static IP", fee=D("100.00"))
    service_update(service=service, actor=ACTOR, fee=D("150.00"))
    assert Service.objects.get(pk=service.pk).fee == D("150.00")
    entry = AuditEntry.objects.get(action="service_update")
    assert (entry.old, entry.new) == ({"fee": "100.00"}, {"fee": "150.00"})


def test_channels_are_stored_one_per_line_without_repeats(db):
    # The IPTV plug-in compares names without case: "ntv" repeats "NTV".
    service = service_create(actor=ACTOR, name="TV", channels="  NTV \r\n\nПервый канал\nntv\n")
    assert Service.objects.get(pk=service.pk).channels == "NTV\nПервый канал"
    assert service.channel_list == ["NTV", "Первый канал"]
    service_update(service=service, actor=ACTOR, channels="Матч ТВ\nNTV")
    entry = AuditEntry.objects.get(action="service_update")
    assert (entry.old, entry.new) == ({"channels": "NTV\nПервый канал"},
                                      {"channels": "Матч ТВ\nNTV"})
    service_update(service=service, actor=ACTOR, channels=None)
    assert Service.objects.get(pk=service.pk).channel_list == []


@pytest.mark.parametrize("channels, message", [
    ("NTV\n" + "x" * 201, "TV channels: " + "x" * 40 + "… is longer than 200 characters"),
    ("\n".join(f"C{n}" for n in range(2001)), "TV channels: at most 2000 channels in a package"),
    (["NTV"], "TV channels: one channel name per line, as text"),
])
def test_bad_channel_lists_are_refused_and_change_nothing(db, channels, message):
    service = service_create(actor=ACTOR, name="TV", channels="NTV")
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        service_update(service=service, actor=ACTOR, channels=channels)
    assert str(info.value) == message
    with pytest.raises(InvalidInput):
        service_create(actor=ACTOR, name="TV 2", channels=channels)
    assert db_state() == before
    assert Service.objects.get(pk=service.pk).channels == "NTV"


HUGE = [D("1e13"), "1" * 30, 10**13, D("1E+999999"), D("-1e13"), D("999999999999.995")]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("field, label", [
    ("fee", "Fee"), ("disconnect_threshold", "Disconnect threshold"),
    ("voluntary_block_fee", "Fee during a voluntary block"),
    ("promised_amount", "Promised payment amount"),
])
def test_amounts_past_the_column_are_refused_and_change_nothing(tariff, field, label, value):
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        tariff_update(tariff=tariff, actor=ACTOR, **{field: value})
    assert str(info.value) == f"{label} is too large: at most 999999999999.99"
    with pytest.raises(InvalidInput) as info:
        tariff_create(actor=ACTOR, name="Huge", **{field: value})
    assert str(info.value) == f"{label} is too large: at most 999999999999.99"
    assert db_state() == before
    service = Service.objects.create(name="TV", fee=D("10.00"))
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        service_update(service=service, actor=ACTOR, fee=value)
    assert str(info.value) == "Fee is too large: at most 999999999999.99"
    assert db_state() == before
    assert Service.objects.get(pk=service.pk).fee == D("10.00")


def test_the_largest_amount_the_column_holds_is_accepted(tariff):
    tariff_update(tariff=tariff, actor=ACTOR, disconnect_threshold=D("999999999999.99"))
    assert Tariff.objects.get(pk=tariff.pk).disconnect_threshold == D("999999999999.99")
