"""Domain methods and save() writers of the REST v2 models: thin translations from Carbon's
argument names to our services, which do every check and write the audit log.

Each method is ``func(ctx, spec, obj, arg, name)`` (see ``registry.Method``); each writer
is ``writer(ctx, obj, changes)`` with ``changes`` the values ``set`` collected for its
group, already in Python types.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

import asr_billing
from asr_billing.core.errors import Conflict, InvalidInput, NotFound
from asr_billing.core.money import MoneyError, parse_amount
from asr_billing.rest_v2 import cabinet_bridge
from asr_billing.rest_v2.chain import ObjectState, object_arg
from asr_billing.rest_v2.registry import spec_named
from asr_billing.rest_v2.values import parse_value, short


def _text_arg(args: dict, key: str, name: str) -> str:
    value = args.get(key)
    if value is None or isinstance(value, (dict, list, bool)):
        raise InvalidInput(_('%(method)s needs "%(arg)s"') % {"method": name, "arg": key})
    return str(value)


# --- Users (logins) -----------------------------------------------------------------


def check_pass(ctx, spec, login, arg, name) -> bool:
    """True when ``passwd`` is the login's password (constant-time comparison). A wrong
    one counts as a failed cabinet login of that name (cabinet.login_guard): a server in
    network['api.cabinet_servers'] passes the subscriber's address as ``src_ip``. An
    attempt that must wait is refused with the cabinet's "Too many failed logins" text."""
    from asr_billing.cabinet.services import cabinet_password_check

    args = object_arg(arg, name)
    password = _text_arg(args, "passwd", name)
    claimed = args.get("src_ip")
    return cabinet_password_check(login=login, password=password, source_ip=ctx.source_ip,
                                  client_ip=claimed if isinstance(claimed, str) else None)


def set_password(ctx, spec, login, arg, name) -> bool:
    """Set the login's password to ``psw``. ``dontshow`` is accepted and ignored: we never
    show passwords anyway."""
    from asr_billing.network.services import login_set_password

    password = _text_arg(object_arg(arg, name), "psw", name)
    login_set_password(login=login, password=password, actor=ctx.actor)
    return True


def get_or_create_dynamic_session(ctx, spec, login, arg, name) -> dict:
    """A cabinet session for the login: the NetSpace client reads ``result.fields.suid``."""
    from asr_billing.cabinet.services import dynamic_session

    suid = dynamic_session(login=login, source_ip=ctx.source_ip)
    return {"pk": suid, "model": "DynamicSession", "fields": {"suid": suid, "user_id": login.pk}}


def web_cabinet(ctx, spec, _obj, arg, name) -> list[str]:
    return cabinet_bridge.web_cabinet(
        name=name, args=object_arg(arg, name), source_ip=ctx.source_ip, model=spec.name
    )


def write_login(ctx, login, changes: dict):
    """ip, mac, enabled of a login, through login_update (checks IP uniqueness, audits)."""
    from asr_billing.network.services import login_update

    names = {"ip": "ip", "mac": "mac", "enabled": "enabled"}
    values = {names[key]: value for key, value in changes.items()}
    if "mac" in values and values["mac"] is None:
        values["mac"] = ""
    if "enabled" in values and values["enabled"] is None:
        raise InvalidInput(_("enabled must be 0 or 1"))
    return login_update(login=login, actor=ctx.actor, **values)


def write_login_contacts(ctx, login, changes: dict):
    """sms and a_home_number of a login are its subscriber's."""
    write_contacts(ctx, login.subscriber, changes)
    return login


# --- Abonents (subscribers) -----------------------------------------------------------

CONTACT_FIELDS = {"sms": "sms_phone", "phone": "phone", "email": "email",
                  "a_home_number": "apartment"}


def write_contacts(ctx, subscriber, changes: dict):
    from asr_billing.subscribers.services import subscriber_contacts_update

    values = {CONTACT_FIELDS[key]: ("" if value is None else value)
              for key, value in changes.items()}
    return subscriber_contacts_update(subscriber=subscriber, actor=ctx.actor, **values)


def write_tariff_schedule(ctx, subscriber, changes: dict):
    """tarif_next_id + tarif_next_date: a scheduled tariff change, checked and audited by
    the service; tarif_next_id null cancels it."""
    from asr_billing.subscribers.services import subscriber_tariff_schedule
    from asr_billing.tariffs.models import Tariff

    tariff_id = changes.get("tarif_next_id", subscriber.tariff_next_id)
    on = changes.get("tarif_next_date", subscriber.tariff_next_date)
    tariff = None
    if tariff_id is not None:
        tariff = Tariff.objects.filter(pk=tariff_id).first()
        if tariff is None:
            raise NotFound(_("Tariff %(id)s does not exist") % {"id": tariff_id})
    return subscriber_tariff_schedule(subscriber=subscriber, tariff=tariff, on=on, actor=ctx.actor)


def write_voluntary_block(ctx, subscriber, changes: dict):
    """own_disabled_start + own_disabled_end: take a voluntary block for those days; both
    null: lift the current one. Rules (min/max days, per month, cost) are the billing's."""
    if set(changes) != {"own_disabled_start", "own_disabled_end"}:
        raise InvalidInput(_("Set own_disabled_start and own_disabled_end together"))
    start, end = changes["own_disabled_start"], changes["own_disabled_end"]
    if (start is None) != (end is None):
        raise InvalidInput(
            _("own_disabled_start and own_disabled_end are both dates, or both null to lift "
              "the block")
        )
    from asr_billing.billing.services import voluntary_block_create, voluntary_block_end

    if start is None:
        from asr_billing.billing.selectors import voluntary_block_current

        block = voluntary_block_current(subscriber.pk, timezone.localdate())
        if block is None:
            raise Conflict(_("The subscriber has no voluntary block to lift"))
        voluntary_block_end(block=block, actor=ctx.actor)
        return subscriber
    voluntary_block_create(subscriber=subscriber, start_date=start, end_date=end, actor=ctx.actor)
    return subscriber


def add_payment(ctx, spec, subscriber, arg, name) -> ObjectState:
    """Credit ``SUM_IN`` roubles through payment_register. Optional ``pay_operator`` (an
    operator code) with ``pay_id_str`` makes it exactly-once; ``descr`` is a comment.
    Answers the account (AdminAccounts), so ``result.fields.balance`` is the new balance."""
    from asr_billing.finance.models import Account
    from asr_billing.finance.services import payment_register

    args = object_arg(arg, name)
    raw = args.get("SUM_IN", args.get("sum_in"))
    if raw is None:
        raise InvalidInput(_('add_payment needs "SUM_IN"'))
    try:
        amount = parse_amount(raw)
    except (MoneyError, TypeError):
        raise InvalidInput(
            _("SUM_IN must be a positive amount with at most 2 decimals, not %(value)s")
            % {"value": short(raw)}
        ) from None
    operator = args.get("pay_operator") or None
    external_id = args.get("pay_id_str") or ""
    description = args.get("descr") or _("Payment through REST API v2 from %(ip)s") % {
        "ip": ctx.source_ip
    }
    payment_register(
        subscriber=subscriber,
        amount=amount,
        actor=ctx.actor,
        operator=str(operator) if operator is not None else None,
        external_id=str(external_id),
        description=parse_value("str", description, name="descr"),
    )
    return ObjectState(spec_named("AdminAccounts"), Account.objects.get(pk=subscriber.pk))


def get_balance_until_date(ctx, spec, subscriber, arg, name) -> dict:
    """How long the money lasts at the tariff's fee: ``enough_to_date`` (the last day paid
    for, null when there is no fee to pay) and ``days_until`` (days from today)."""
    from asr_billing.finance.models import Account
    from asr_billing.finance.selectors import money_lasts_until

    account = Account.objects.select_related("subscriber__tariff").get(pk=subscriber.pk)
    lasts = money_lasts_until(
        balance=account.balance,
        credit_limit=account.credit_limit,
        promised=account.promised_amount,
        tariff=account.subscriber.tariff,
        today=timezone.localdate(),
    )
    return {
        "enough_to_date": lasts.until.isoformat() if lasts.until is not None else None,
        "days_until": lasts.days,
    }


# --- AdminAccounts, AttributeValues -----------------------------------------------------


def write_credit(ctx, account, changes: dict):
    from asr_billing.subscribers.services import subscriber_credit_set

    value = changes["credit"]
    if value is None:
        raise InvalidInput(_("credit cannot be null"))
    subscriber_credit_set(subscriber=account.subscriber, credit_limit=Decimal(value),
                          actor=ctx.actor)
    return account


def write_attribute_value(ctx, record, changes: dict):
    from asr_billing.subscribers.services import attribute_value_update

    value = changes["attribute_value"]
    return attribute_value_update(
        attribute_value=record, value="" if value is None else value, actor=ctx.actor
    )


def create_attribute_value(ctx, spec, values: dict):
    from asr_billing.subscribers.models import Subscriber
    from asr_billing.subscribers.services import attribute_value_create

    subscriber = Subscriber.objects.filter(pk=values["abonent_id"]).first()
    if subscriber is None:
        raise NotFound(_("Subscriber %(id)s does not exist") % {"id": values["abonent_id"]})
    return attribute_value_create(
        subscriber=subscriber,
        attribute_id=values["attribute_id"],
        value=values["attribute_value"],
        actor=ctx.actor,
    )


# --- Version ------------------------------------------------------------------------------


def get_version(ctx, spec, _obj, arg, name) -> str:
    return asr_billing.__version__

