"""Writes about subscribers: creation, contract numbers, admin block, tariff."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.models import Counter
from asr_billing.core.money import ZERO, MoneyError, money
from asr_billing.finance.state import subscriber_state_refresh
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.tariffs.models import Tariff

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


def _clean_text(value: str, field: str, *, required: bool = False, max_length: int = 255) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(_("%(field)s is required") % {"field": field})
    if len(text) > max_length:
        raise InvalidInput(
            _("%(field)s is longer than %(n)d characters") % {"field": field, "n": max_length}
        )
    return text


def _credit_limit(value: Decimal) -> Decimal:
    """A credit limit: roubles, not negative, 2 places at most (floats raise TypeError)."""
    try:
        result = money(value)
    except MoneyError:
        raise InvalidInput(_("Credit limit is not a valid amount")) from None
    if result != Decimal(value):  # money() rounded it
        raise InvalidInput(_("Credit limit has more than 2 decimal places"))
    if result < 0:
        raise InvalidInput(_("Credit limit cannot be negative"))
    return result


def _clean_email(value: str) -> str:
    text = _clean_text(value, _("E-mail"), max_length=254)
    if text:
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidInput(_("%(value)s is not an e-mail address") % {"value": text}) from None
    return text


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

    name = _clean_text(name, _("Name"), required=True)
    credit_limit = _credit_limit(credit_limit)
    number = _clean_text(contract_number or "", _("Contract number"), max_length=32)
    number = number or contract_number_next()
    subscriber = Subscriber(
        name=name,
        group=group,
        tariff=tariff,
        contract_number=number,
        is_company=is_company,
        email=_clean_email(email),
        sms_phone=_clean_text(sms_phone, _("Phone for SMS"), max_length=32),
        phone=_clean_text(phone, _("Phone"), max_length=64),
        address=_clean_text(address, _("Address"), max_length=500),
        code1c=_clean_text(code1c, _("1C code"), max_length=64),
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


def _lock_subscriber(subscriber: Subscriber) -> Subscriber:
    return Subscriber.objects.select_for_update().get(pk=subscriber.pk)


@transaction.atomic
def subscriber_block(*, subscriber: Subscriber, actor: Actor, reason: str = "") -> Subscriber:
    """Block by the administrator: the subscriber goes to the collector's blocked list."""
    locked = _lock_subscriber(subscriber)
    if locked.admin_blocked:
        raise Conflict(_("The subscriber is already blocked"))
    locked.admin_blocked = True
    locked.admin_block_reason = _clean_text(reason, _("Reason"))
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
    locked = _lock_subscriber(subscriber)
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
    """Change the tariff at once (the admin's edit). Scheduled changes are the billing's."""
    from asr_billing.finance.services import account_lock
    from asr_billing.finance.state import subscriber_state_refresh

    # The tariff's threshold decides negbal together with the balance: take the account
    # lock first, in the order the money services take it (account, then subscriber), so a
    # payment running meanwhile waits for this change instead of judging by the old tariff.
    account_lock(subscriber.pk)
    locked = _lock_subscriber(subscriber)
    old = locked.tariff_id
    if old == (tariff.pk if tariff else None):
        return locked
    locked.tariff = tariff
    locked.save(update_fields=["tariff"])
    audit_record(
        actor=actor,
        action="tariff_change",
        obj=locked,
        subscriber=locked,
        old={"tariff": old},
        new={"tariff": tariff.pk if tariff else None},
    )
    subscriber_state_refresh(subscriber_id=locked.pk, actor=actor)
    return locked


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


# --- 1C exchange (system API api_1c_manager) ---


def _root_group() -> Group:
    root = Group.objects.filter(parent__isnull=True).order_by("id").first()
    if root is None:
        raise InvalidInput(_("There is no subscriber group yet; create one first"))
    return root


@transaction.atomic
def subscriber_create_from_1c(
    *, code1c: str, name: str, actor: Actor, group: Group | None = None
) -> tuple[Subscriber, bool]:
    """Create a subscriber that 1C already knows by ``code1c``, exactly once per code.

    Returns (subscriber, created). A repeat with the same code and name returns the
    existing subscriber (created=False); the same code with another name is refused,
    as a payment replay with another amount is. The subscriber lands in ``group`` (default:
    the first top-level group) without a tariff and counts as synced with 1C.
    """
    code = _clean_text(code1c, _("1C code"), required=True, max_length=64)
    clean_name = _clean_text(name, _("Name"), required=True)

    def existing() -> tuple[Subscriber, bool] | None:
        found = Subscriber.objects.filter(code1c=code).first()
        if found is None:
            return None
        if found.name.strip() != clean_name:
            raise Conflict(
                _("1C code %(code)s belongs to subscriber %(contract)s named %(name)s")
                % {"code": code, "contract": found.contract_number, "name": found.name}
            )
        return found, False

    found = existing()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            subscriber = subscriber_create(
                name=clean_name, group=group or _root_group(), actor=actor, code1c=code
            )
    except Conflict:
        # A concurrent request created it between our look and our insert.
        found = existing()
        if found is None:
            raise
        return found
    Subscriber.objects.filter(pk=subscriber.pk).update(synced_1c=True)
    subscriber.synced_1c = True
    return subscriber, True


@transaction.atomic
def subscriber_sync_1c(
    *, subscriber: Subscriber, actor: Actor, synced: bool, code1c: str | None = None
) -> Subscriber:
    """Record the 1C side of a subscriber: its code in 1C (when given) and whether it is
    synced. A code that another subscriber holds is refused."""
    locked = _lock_subscriber(subscriber)
    old = {"code1c": locked.code1c, "synced_1c": locked.synced_1c}
    if code1c is not None:
        code = _clean_text(code1c, _("1C code"), max_length=64)
        if code and Subscriber.objects.filter(code1c=code).exclude(pk=locked.pk).exists():
            raise Conflict(_("1C code %(c)s is taken") % {"c": code})
        locked.code1c = code
    locked.synced_1c = bool(synced)
    new = {"code1c": locked.code1c, "synced_1c": locked.synced_1c}
    if new == old:
        return locked
    try:
        with transaction.atomic():
            locked.save(update_fields=["code1c", "synced_1c"])
    except IntegrityError:
        raise Conflict(_("1C code %(c)s is taken") % {"c": locked.code1c}) from None
    audit_record(
        actor=actor, action="sync_1c", obj=locked, subscriber=locked, old=old, new=new
    )
    return locked


# --- Scheduled tariff change, contacts and attributes (used by REST v2 and the admin) ---


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

    locked = _lock_subscriber(subscriber)
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


_PHONE_CHARS = frozenset("0123456789+()- ")


def _clean_phone(value: str, field: str, max_length: int) -> str:
    text = _clean_text(value, field, max_length=max_length)
    if text and (not set(text) <= _PHONE_CHARS or not any(c.isdigit() for c in text)):
        raise InvalidInput(
            _("%(field)s: %(value)s is not a phone number") % {"field": field, "value": text}
        )
    return text


@transaction.atomic
def subscriber_contacts_update(
    *, subscriber: Subscriber, actor: Actor, sms_phone=..., phone=..., email=..., apartment=...
) -> Subscriber:
    """Change how the subscriber is reached: SMS phone, phone, e-mail, apartment number.
    Arguments left out stay as they are; each value is checked before anything changes."""
    locked = _lock_subscriber(subscriber)
    fields = ("sms_phone", "phone", "email", "apartment")
    old = {name: getattr(locked, name) for name in fields}
    if sms_phone is not ...:
        locked.sms_phone = _clean_phone(sms_phone, _("Phone for SMS"), 32)
    if phone is not ...:
        locked.phone = _clean_phone(phone, _("Phone"), 64)
    if email is not ...:
        locked.email = _clean_email(email)
    if apartment is not ...:
        locked.apartment = _clean_text(apartment, _("Apartment"), max_length=32)
    new = {name: getattr(locked, name) for name in fields}
    changed = [name for name in fields if new[name] != old[name]]
    if not changed:
        return locked
    locked.save(update_fields=changed)
    audit_record(
        actor=actor,
        action="contacts_change",
        obj=locked,
        subscriber=locked,
        old={name: old[name] for name in changed},
        new={name: new[name] for name in changed},
    )
    return locked


@transaction.atomic
def attribute_value_create(*, subscriber: Subscriber, attribute_id: int, value: str, actor: Actor):
    """Give the subscriber a value of an attribute kind (INN 4, KPP 5, Telegram id 1012...).
    A subscriber holds one value per kind: a second one is refused (change it instead)."""
    from asr_billing.core.errors import NotFound
    from asr_billing.subscribers.models import Attribute, AttributeValue

    attribute = Attribute.objects.filter(pk=attribute_id).first()
    if attribute is None:
        raise NotFound(_("Attribute %(id)s does not exist") % {"id": attribute_id})
    text = _clean_text(value, attribute.name, max_length=1000)
    record = AttributeValue(subscriber=subscriber, attribute=attribute, value=text)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise Conflict(
            _("Subscriber %(contract)s already has attribute %(id)s; change its value instead")
            % {"contract": subscriber.contract_number, "id": attribute_id}
        ) from None
    audit_record(
        actor=actor,
        action="attribute_set",
        obj=record,
        subscriber=subscriber,
        old=None,
        new={"attribute": attribute.pk, "value": text},
    )
    return record


@transaction.atomic
def attribute_value_update(*, attribute_value, value: str, actor: Actor):
    """Change the value of a subscriber's attribute."""
    from asr_billing.subscribers.models import AttributeValue

    locked = AttributeValue.objects.select_for_update().select_related("attribute").get(
        pk=attribute_value.pk
    )
    text = _clean_text(value, locked.attribute.name, max_length=1000)
    if text == locked.value:
        return locked
    old = locked.value
    locked.value = text
    locked.save(update_fields=["value"])
    audit_record(
        actor=actor,
        action="attribute_set",
        obj=locked,
        subscriber=locked.subscriber,
        old={"attribute": locked.attribute_id, "value": old},
        new={"attribute": locked.attribute_id, "value": text},
    )
    return locked


# --- Services (uslugi) of a subscriber: connect and disconnect (admin, cabinet) ---


def _first_charge(service, day: date) -> Decimal:
    """What connecting ``service`` on ``day`` charges first: the fee (a monthly fee counted
    in full), or the day's share of a fee spread by day."""
    from asr_billing.billing.periods import day_share
    from asr_billing.tariffs.models import ChargeMethod

    if service.charge_method == ChargeMethod.MONTHLY_SPREAD:
        return day_share(service.fee, day)
    return service.fee


def _local_today() -> date:
    from asr_billing.billing.periods import local_today

    return local_today(runtime.current().time_zone)


@transaction.atomic
def subscriber_service_connect(*, subscriber: Subscriber, service, actor: Actor,
                               cabinet: bool = False, on: date | None = None):
    """Connect ``service`` from the day ``on`` (default: today); the billing run charges
    it. From the cabinet (``cabinet=True``) the service must be shown and connectable
    there, the subscriber not blocked, and the money available (balance + credit +
    promised payment above the disconnect threshold) must cover the first charge.
    A service disconnected today (it runs until tonight) is reopened, not doubled."""
    from asr_billing.finance.selectors import money_available
    from asr_billing.finance.services import account_lock
    from asr_billing.subscribers.models import SubscriberService

    day = on or _local_today()
    if not service.is_active:
        raise InvalidInput(_("Service %(name)s is not available") % {"name": service.name})
    if cabinet and not (service.is_show_web and service.web_allow_enable):
        raise InvalidInput(
            _("Service %(name)s cannot be connected from the cabinet") % {"name": service.name}
        )
    account = account_lock(subscriber.pk)
    locked = _lock_subscriber(subscriber)
    if cabinet and locked.is_blocked:
        raise Conflict(_("Services cannot be connected while the subscriber is blocked"))
    links = SubscriberService.objects.select_for_update().filter(subscriber=locked,
                                                                 service=service)
    if links.filter(disabled_on__isnull=True).exists():
        raise Conflict(_("Service %(name)s is already connected") % {"name": service.name})
    running = links.filter(disabled_on__gt=day).order_by("-id").first()
    if cabinet and running is None:
        threshold = locked.tariff.disconnect_threshold if locked.tariff_id else ZERO
        available = money_available(balance=account.balance, credit_limit=account.credit_limit,
                                    promised=account.promised_amount, threshold=threshold)
        cost = _first_charge(service, day)
        if cost > 0 and available < cost:
            raise InvalidInput(
                _("Not enough money to connect %(name)s: it costs %(cost)s, available "
                  "%(available)s") % {"name": service.name, "cost": cost,
                                      "available": max(available, ZERO)}
            )
    if running is not None:
        old = {"disabled_on": running.disabled_on.isoformat()}
        running.disabled_on = None
        running.save(update_fields=["disabled_on"])
        link = running
    else:
        old = None
        try:
            with transaction.atomic():
                link = SubscriberService.objects.create(
                    subscriber=locked, service=service, enabled_on=day
                )
        except IntegrityError:  # a concurrent connect won (one open link, by constraint)
            raise Conflict(
                _("Service %(name)s is already connected") % {"name": service.name}
            ) from None
    audit_record(
        actor=actor,
        action="service_connect",
        obj=link,
        subscriber=locked,
        old=old,
        new={"service": service.pk, "enabled_on": link.enabled_on.isoformat()},
    )
    return link


@transaction.atomic
def subscriber_service_disconnect(*, link, actor: Actor, cabinet: bool = False,
                                  on: date | None = None):
    """Disconnect a connected service: it runs to the end of the day ``on`` (default:
    today; that day is charged already) and stops from the next one. One that has not
    started yet is cancelled. From the cabinet the service must allow it."""
    from asr_billing.finance.services import account_lock
    from asr_billing.subscribers.models import SubscriberService

    day = on or _local_today()
    account_lock(link.subscriber_id)
    locked_subscriber = _lock_subscriber(link.subscriber)
    locked = SubscriberService.objects.select_for_update().select_related("service").get(
        pk=link.pk
    )
    service = locked.service
    if locked.disabled_on is not None:
        raise Conflict(_("Service %(name)s is not connected") % {"name": service.name})
    if cabinet and not service.web_allow_disable:
        raise InvalidInput(
            _("Service %(name)s cannot be disconnected from the cabinet") % {"name": service.name}
        )
    locked.disabled_on = max(locked.enabled_on, day + timedelta(days=1))
    locked.save(update_fields=["disabled_on"])
    audit_record(
        actor=actor,
        action="service_disconnect",
        obj=locked,
        subscriber=locked_subscriber,
        old={"disabled_on": None},
        new={"service": service.pk, "disabled_on": locked.disabled_on.isoformat()},
    )
    return locked
