"""Writes about subscribers: creation, contract numbers, admin block, tariff and credit.

The other subscriber writes live beside this module and are re-exported here, so
``from asr_billing.subscribers.services import ...`` finds every one of them:
services_1c.py (1C exchange), services_profile.py (contacts, attribute values) and
services_uslugi.py (connecting services). Shared checks are in service_common.py.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.models import Counter
from asr_billing.core.money import ZERO, MoneyError, amount_too_large, money, too_large
from asr_billing.finance.state import subscriber_state_refresh
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.subscribers.service_common import (
    clean_email,
    clean_text,
    lock_subscriber,
    save_changed,
)
from asr_billing.subscribers.services_1c import subscriber_create_from_1c, subscriber_sync_1c
from asr_billing.subscribers.services_profile import (
    attribute_value_create,
    attribute_value_update,
    subscriber_contacts_update,
)
from asr_billing.subscribers.services_uslugi import (
    subscriber_service_connect,
    subscriber_service_disconnect,
)
from asr_billing.tariffs.models import Tariff

__all__ = [
    "CONTRACT_COUNTER",
    "attribute_value_create",
    "attribute_value_update",
    "contract_number_next",
    "subscriber_block",
    "subscriber_contacts_update",
    "subscriber_create",
    "subscriber_create_from_1c",
    "subscriber_credit_set",
    "subscriber_service_connect",
    "subscriber_service_disconnect",
    "subscriber_sync_1c",
    "subscriber_tariff_schedule",
    "subscriber_tariff_set",
    "subscriber_unblock",
    "subscriber_update",
]

CONTRACT_COUNTER = "contract_number"


def contract_number_next() -> str:
    """The next free contract number in the configured pattern (prefix + zero-padded n).

    Uses a counter row locked for the transaction, so concurrent creations get distinct
    numbers; numbers taken by hand (imports) are skipped. Call inside a transaction.
    """
    snapshot = runtime.current()
    prefix = snapshot.get("app", "contract.prefix")
    digits = int(snapshot.get("app", "contract.digits"))
    Counter.objects.get_or_create(name=CONTRACT_COUNTER)
    counter = Counter.objects.select_for_update().get(name=CONTRACT_COUNTER)
    while True:
        counter.value += 1
        candidate = f"{prefix}{counter.value:0{digits}d}"
        if not Subscriber.objects.filter(contract_number=candidate).exists():
            break
    counter.save(update_fields=["value"])
    return candidate


def _credit_limit(value: Decimal) -> Decimal:
    """A credit limit: roubles, not negative, 2 places at most (floats raise TypeError)."""
    if too_large(value):
        raise amount_too_large(_("Credit limit"))
    try:
        result = money(value)
    except MoneyError:
        raise InvalidInput(_("Credit limit is not a valid amount")) from None
    if result != Decimal(value):  # money() rounded it
        raise InvalidInput(_("Credit limit has more than 2 decimal places"))
    if result < 0:
        raise InvalidInput(_("Credit limit cannot be negative"))
    return result


@transaction.atomic
def subscriber_create(
    *,
    name: str,
    group: Group,
    actor: Actor,
    tariff: Tariff | None = None,
    contract_number: str | None = None,
    is_company: bool = False,
    email: str = "",
    sms_phone: str = "",
    phone: str = "",
    address: str = "",
    code1c: str = "",
    credit_limit: Decimal = ZERO,
    connected_on: date | None = None,
) -> Subscriber:
    """Create a subscriber with its account. The contract number is generated when not given."""
    from asr_billing.finance.models import Account

    name = clean_text(name, _("Name"), required=True)
    credit_limit = _credit_limit(credit_limit)
    number = clean_text(contract_number or "", _("Contract number"), max_length=32)
    number = number or contract_number_next()
    subscriber = Subscriber(
        name=name,
        group=group,
        tariff=tariff,
        contract_number=number,
        is_company=is_company,
        email=clean_email(email),
        sms_phone=clean_text(sms_phone, _("Phone for SMS"), max_length=32),
        phone=clean_text(phone, _("Phone"), max_length=64),
        address=clean_text(address, _("Address"), max_length=500),
        code1c=clean_text(code1c, _("1C code"), max_length=64),
        connected_on=connected_on,
    )
    try:
        with transaction.atomic():
            subscriber.save()
    except IntegrityError:
        if Subscriber.objects.filter(contract_number=number).exists():
            raise Conflict(_("Contract number %(n)s is taken") % {"n": number}) from None
        if code1c and Subscriber.objects.filter(code1c=subscriber.code1c).exists():
            raise Conflict(_("1C code %(c)s is taken") % {"c": subscriber.code1c}) from None
        raise
    account = Account.objects.create(subscriber=subscriber, credit_limit=credit_limit)
    audit_record(
        actor=actor,
        action="subscriber_create",
        obj=subscriber,
        subscriber=subscriber,
        new={
            "contract_number": number,
            "name": name,
            "tariff": tariff.pk if tariff else None,
            "credit_limit": str(credit_limit),
        },
    )
    # A tariff with a positive disconnect threshold cuts off an empty account at once.
    account.subscriber = subscriber
    subscriber_state_refresh(subscriber_id=subscriber.pk, actor=actor, account=account)
    return subscriber


def _details(subscriber: Subscriber) -> dict:
    on = subscriber.connected_on
    return {
        "name": subscriber.name,
        "group": subscriber.group_id,
        "is_company": subscriber.is_company,
        "connected_on": on.isoformat() if on else None,
        "address": subscriber.address,
        "comments": subscriber.comments,
    }


@transaction.atomic
def subscriber_update(
    *, subscriber: Subscriber, actor: Actor, name=..., group=..., is_company=...,
    connected_on=..., address=..., comments=...,
) -> Subscriber:
    """Change the descriptive data: name, group, legal-entity flag, connection date,
    address, comments. Arguments left out stay as they are; each value is checked before
    anything changes. Charging starts on the connection date (billing/rules.py), so the
    changes are audited (the fields that changed, before and after)."""
    locked = lock_subscriber(subscriber)
    old = _details(locked)
    if name is not ...:
        locked.name = clean_text(name, _("Name"), required=True)
    if group is not ...:
        if not isinstance(group, Group):
            raise InvalidInput(_("Group is required"))
        locked.group = group
    if is_company is not ...:
        locked.is_company = bool(is_company)
    if connected_on is not ...:
        if connected_on is not None and (
            not isinstance(connected_on, date) or isinstance(connected_on, datetime)
        ):
            raise InvalidInput(_("The connection date must be a date"))
        locked.connected_on = connected_on
    if address is not ...:
        locked.address = clean_text(address, _("Address"), max_length=500)
    if comments is not ...:
        locked.comments = comments or ""
    save_changed(locked, old=old, new=_details(locked), action="subscriber_update", actor=actor)
    return locked


@transaction.atomic
def subscriber_block(*, subscriber: Subscriber, actor: Actor, reason: str = "") -> Subscriber:
    """Block by the administrator: the subscriber goes to the collector's blocked list."""
    locked = lock_subscriber(subscriber)
    if locked.admin_blocked:
        raise Conflict(_("The subscriber is already blocked"))
    locked.admin_blocked = True
    locked.admin_block_reason = clean_text(reason, _("Reason"))
    locked.save(update_fields=["admin_blocked", "admin_block_reason"])
    audit_record(
        actor=actor,
        action="admin_block",
        obj=locked,
        subscriber=locked,
        old={"admin_blocked": False},
        new={"admin_blocked": True},
        message=locked.admin_block_reason,
    )
    return locked


@transaction.atomic
def subscriber_unblock(*, subscriber: Subscriber, actor: Actor) -> Subscriber:
    locked = lock_subscriber(subscriber)
    if not locked.admin_blocked:
        raise Conflict(_("The subscriber is not blocked"))
    locked.admin_blocked = False
    locked.admin_block_reason = ""
    locked.save(update_fields=["admin_blocked", "admin_block_reason"])
    audit_record(
        actor=actor,
        action="admin_unblock",
        obj=locked,
        subscriber=locked,
        old={"admin_blocked": True},
        new={"admin_blocked": False},
    )
    return locked


@transaction.atomic
def subscriber_tariff_set(
    *, subscriber: Subscriber, tariff: Tariff | None, actor: Actor
) -> Subscriber:
    """Change the tariff at once; returns the subscriber as it is now.

    The one way to do it is billing's ``tariff_change_now`` (the admin calls it too): it
    records the change so charging follows the new tariff from tomorrow, refunds unused
    prepaid days of the old one, audits it and recomputes negbal. This name stays for the
    callers of the subscriber services. A change from a later day: subscriber_tariff_schedule.
    """
    from asr_billing.billing.services import tariff_change_now

    tariff_change_now(subscriber=subscriber, tariff=tariff, actor=actor)
    return Subscriber.objects.select_related("tariff").get(pk=subscriber.pk)


@transaction.atomic
def subscriber_credit_set(*, subscriber: Subscriber, credit_limit: Decimal, actor: Actor) -> None:
    from asr_billing.finance.models import Account
    from asr_billing.finance.state import subscriber_state_refresh

    value = _credit_limit(credit_limit)
    account = Account.objects.select_for_update().get(pk=subscriber.pk)
    if account.credit_limit == value:
        return
    old = account.credit_limit
    account.credit_limit = value
    account.save(update_fields=["credit_limit", "updated_at"])
    audit_record(
        actor=actor,
        action="credit_change",
        obj=account,
        subscriber=subscriber,
        old={"credit_limit": str(old)},
        new={"credit_limit": str(value)},
    )
    subscriber_state_refresh(subscriber_id=subscriber.pk, actor=actor)


# --- Scheduled tariff change (used by REST v2 and the admin) ---


def _schedule_state(subscriber: Subscriber) -> dict:
    on = subscriber.tariff_next_date
    return {
        "tariff_next": subscriber.tariff_next_id,
        "tariff_next_date": on.isoformat() if on else None,
    }


@transaction.atomic
def subscriber_tariff_schedule(
    *, subscriber: Subscriber, tariff: Tariff | None, on: date | None, actor: Actor
) -> Subscriber:
    """Schedule a change to ``tariff`` from the day ``on`` (Carbon's tarif_next /
    tarif_next_date); the billing run applies it that day. ``tariff=None`` cancels a
    scheduled change. The tariff must be available and the day today or later in the
    operator's time zone."""
    from django.utils import timezone

    locked = lock_subscriber(subscriber)
    old = _schedule_state(locked)
    if tariff is None:
        locked.tariff_next, locked.tariff_next_date = None, None
    else:
        if not tariff.is_active:
            raise InvalidInput(_("Tariff %(name)s is not available") % {"name": tariff.name})
        if on is None:
            raise InvalidInput(_("The date of the tariff change is required"))
        today = timezone.localdate()
        if on < today:
            raise InvalidInput(
                _("The tariff change date %(date)s is in the past (today is %(today)s)")
                % {"date": on.isoformat(), "today": today.isoformat()}
            )
        if tariff.pk == locked.tariff_id:
            raise InvalidInput(
                _("The subscriber is already on tariff %(name)s") % {"name": tariff.name}
            )
        locked.tariff_next, locked.tariff_next_date = tariff, on
    new = _schedule_state(locked)
    if new == old:
        return locked
    locked.save(update_fields=["tariff_next", "tariff_next_date"])
    audit_record(
        actor=actor, action="tariff_schedule", obj=locked, subscriber=locked, old=old, new=new
    )
    return locked
