"""The REST v2 models: Carbon's names mapped field by field onto ours.

Field names are Carbon's where a known client reads or sends them (reference §4–§5);
fields marked "ours" are additions with our own names. Secrets (login passwords, NAS
RADIUS secrets) are not declared, so no request can read, filter on or write them.

The money models (AdminAccounts, FinanceOperations, ArchAccountStack) are declared in
``models_money.py``, which this module imports.

Decisions a client may notice (also in docs/rest-api-v2.md):

- Carbon keeps groups and subscribers in one table ``Abonents`` told apart by
  ``is_folder``. Ours are two tables, so ``objects.filter``/``get``/``exclude`` on
  ``Abonents`` with ``is_folder=1`` work on groups and otherwise (``is_folder=0`` or not
  given) on subscribers. A subscriber's ``parent`` is its group.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from asr_billing.core.money import ZERO
from asr_billing.rest_v2 import methods
from asr_billing.rest_v2.registry import (
    Field,
    Method,
    ModelSpec,
    PrefetchNeed,
    Relation,
    register,
)
from asr_billing.subscribers.selectors import subscriber_in_block

NO_FILTER = frozenset()


def _id(doc: str = "Primary key.") -> Field:
    return Field("id", "int", "pk", doc)


def _switch_q(matches: bool):
    """is_folder on subscribers (False) or groups (True): the value selects all or none."""

    def q(lookup: str, value) -> Q:
        return Q() if bool(value) == matches else Q(pk__in=[])

    return q


# --- Abonents: subscribers and, with is_folder=1, groups


def _blocks_queryset():
    from asr_billing.billing.selectors import voluntary_blocks_current

    return voluntary_blocks_current(timezone.localdate())


def _promised_queryset():
    from asr_billing.billing.models import PromisedPayment

    return PromisedPayment.objects.filter(
        closed_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("expires_at")


BLOCKS = PrefetchNeed("voluntary_blocks", "_rv_blocks", _blocks_queryset)
PROMISED = PrefetchNeed("promised_payments", "_rv_promised", _promised_queryset)


def _first(obj, need: PrefetchNeed):
    items = getattr(obj, need.to_attr, None)
    if items is None:  # a lone object outside a planned query
        items = list(need.queryset().filter(subscriber_id=obj.pk)[:1])
    return items[0] if items else None


def _block_day(attribute: str):
    def value(subscriber):
        block = _first(subscriber, BLOCKS)
        return getattr(block, attribute) if block is not None else None

    return value


def _money_parts(subscriber):
    account = subscriber.account
    tariff = subscriber.tariff
    threshold = tariff.disconnect_threshold if tariff is not None else ZERO
    return account, tariff, threshold


def _minimal_pay(subscriber) -> Decimal:
    from asr_billing.finance.selectors import minimal_payment

    account, _tariff, threshold = _money_parts(subscriber)
    return minimal_payment(balance=account.balance, credit_limit=account.credit_limit,
                           promised=account.promised_amount, threshold=threshold)


def _recommended_pay(subscriber) -> Decimal:
    from asr_billing.finance.selectors import recommended_payment

    account, tariff, _threshold = _money_parts(subscriber)
    return recommended_payment(balance=account.balance, credit_limit=account.credit_limit,
                               promised=account.promised_amount, tariff=tariff,
                               day=timezone.localdate())


ABONENTS = register(ModelSpec(
    name="Abonents",
    model="subscribers.Subscriber",
    doc="Subscribers (contracts). With is_folder=1 in objects.filter/get: groups.",
    switch=("is_folder", {False: "Abonents", True: "AbonentGroups"}),
    fields=(
        _id(),
        Field("name", "str", "name", "Full name or company name."),
        Field("contract_number", "str", "contract_number", "Contract number, BILL0000003."),
        Field("is_folder", "flag", value=lambda s: False, q=_switch_q(False),
              lookups=frozenset({"exact"}),
              doc="0: a subscriber. is_folder=1 in a filter switches to groups."),
        Field("parent_id", "int", "group_id", "Id of the subscriber's group."),
        Field("tarif_id", "int", "tariff_id", "Id of the current tariff."),
        Field("tarif_next_id", "int", "tariff_next_id", writer="schedule",
              doc="Tariff of a scheduled change. Write with tarif_next_date, then save."),
        Field("tarif_next_date", "date", "tariff_next_date", writer="schedule",
              doc="Day the scheduled tariff change applies (today or later)."),
        Field("own_disabled_start", "date", value=_block_day("start_date"),
              prefetch=(BLOCKS,), writer="voluntary_block",
              doc="First day of the current or next voluntary block; null: none."),
        Field("own_disabled_end", "date", value=_block_day("end_date"),
              prefetch=(BLOCKS,), writer="voluntary_block",
              doc="Last day of that voluntary block. Set both (or both null to lift it)."),
        Field("promise_pay", "flag", value=lambda s: _first(s, PROMISED) is not None,
              prefetch=(PROMISED,), doc="1 while a promised payment is active."),
        Field("promise_date_end", "datetime",
              value=lambda s: getattr(_first(s, PROMISED), "expires_at", None),
              prefetch=(PROMISED,), doc="When the active promised payment expires."),
        Field("recomend_pay_sum", "decimal", value=_recommended_pay,
              select=("account", "tariff"),
              doc="Payment that covers a month's fee above the disconnect threshold."),
        Field("minimal_pay_sum", "decimal", value=_minimal_pay, select=("account", "tariff"),
              doc="Least payment that lifts the balance cut-off; 0.00 when not cut off."),
        Field("allow_internet", "flag",
              value=lambda s: not subscriber_in_block(s),
              doc="1 when neither blocked nor cut off by balance."),
        Field("a_home_number", "str", "apartment", writer="contacts", doc="Apartment."),
        Field("sms", "str", "sms_phone", writer="contacts", doc="Phone for SMS."),
        Field("phone", "str", "phone", writer="contacts", doc="Phone."),
        Field("email", "str", "email", writer="contacts", doc="E-mail."),
        Field("address", "str", "address", "Address."),
        Field("code1c", "str", "code1c", "Code in 1C."),
        Field("sync1c", "flag", "synced_1c", "1 when synced with 1C."),
        Field("company", "flag", "is_company", "1 for a legal entity (1C reads it)."),
        Field("activate_date", "date", "connected_on", "Connection day."),
        Field("create_date", "datetime", "created_at", "When the record was created."),
        Field("admin_blocked", "flag", "admin_blocked", "Blocked by the administrator (ours)."),
        Field("negbal", "flag", "negbal", "Cut off by balance (ours)."),
        Field("account_id", "int", "pk", "Id of the account (AdminAccounts); equals id."),
        Field("comments", "str", "comments", "Operator's comments.", default=False),
    ),
    relations=(
        Relation("parent", "AbonentGroups", "group", doc="The group (an Abonents folder)."),
        Relation("tarif", "Tarif", "tariff", doc="Current tariff."),
        Relation("tarif_next", "Tarif", "tariff_next", doc="Tariff of a scheduled change."),
        Relation("account", "AdminAccounts", "account", doc="The account: balance, credit."),
        Relation("users", "Users", "logins", many=True, doc="Logins."),
        Relation("uslugi", "UsersUsluga", "services", many=True, doc="Connected services."),
        Relation("attributes", "AttributeValues", "attributes", many=True, doc="Attributes."),
    ),
    order=("pk",),
    writers={
        "schedule": methods.write_tariff_schedule,
        "voluntary_block": methods.write_voluntary_block,
        "contacts": methods.write_contacts,
    },
    methods=(
        Method("add_payment", methods.add_payment, writes=True,
               args='{"SUM_IN": "600", "pay_operator"?: code, "pay_id_str"?: id, "descr"?}',
               returns="the AdminAccounts object after the payment",
               doc="Credit a payment through payment_register."),
        Method("get_balance_until_date", methods.get_balance_until_date, writes=False,
               args="{}", returns='{"enough_to_date": "2024-05-31", "days_until": 12}',
               doc="How long the money lasts at the tariff's fee."),
    ),
))

register(ModelSpec(
    name="AbonentGroups",
    wire="Abonents",
    hidden=True,
    model="subscribers.Group",
    doc="Groups of subscribers: Abonents with is_folder=1.",
    fields=(
        _id(),
        Field("name", "str", "name", "Group name."),
        Field("is_folder", "flag", value=lambda g: True, q=_switch_q(True),
              lookups=frozenset({"exact"}), doc="1: a group."),
        Field("parent_id", "int", "parent_id", "Id of the parent group; null at the top."),
        Field("comments", "str", "comments", "Comments.", default=False),
    ),
    relations=(Relation("parent", "AbonentGroups", "parent", doc="The parent group."),),
))


# --- Users: logins


register(ModelSpec(
    name="Users",
    model="network.Login",
    doc="Logins of subscribers (PPPoE/IPoE credentials, IP, MAC). Passwords never leave.",
    fields=(
        _id(),
        Field("login", "str", "login", "Login name."),
        Field("ip", "ip", "ip", writer="login", doc="IP address (unique among enabled)."),
        Field("mac", "str", "mac", writer="login", doc="MAC address, 00:1a:2b:3c:4d:5e."),
        Field("snat_ip", "ip", "snat_ip", "SNAT IP (ours)."),
        Field("enabled", "flag", "enabled", writer="login", nullable=False,
              doc="1: the login may connect."),
        Field("abonent_id", "int", "subscriber_id", "Id of the subscriber (Abonents)."),
        Field("nas_id", "int", "nas_id", "Id of the NAS."),
        Field("sms", "str", "subscriber__sms_phone", writer="contacts",
              doc="The subscriber's SMS phone."),
        Field("a_home_number", "str", "subscriber__apartment", writer="contacts",
              doc="The subscriber's apartment."),
        Field("email", "str", "subscriber__email", "The subscriber's e-mail."),
        Field("ostatok", "decimal", "subscriber__account__balance",
              "The subscriber's balance."),
        Field("debit", "decimal", select=("subscriber__account",),
              value=lambda u: max(ZERO, -u.subscriber.account.balance),
              doc="The debt: minus the balance when it is negative, else 0.00."),
        Field("gen_pwd", "flag", value=lambda u: False, lookups=NO_FILTER,
              doc="Always 0: passwords are never generated or shown through the API."),
        Field("create_date", "datetime", "created_at", "When the login was created."),
        Field("comments", "str", "comments", "Comments.", default=False),
    ),
    relations=(
        Relation("abonent", "Abonents", "subscriber", doc="The subscriber."),
        Relation("nas", "Nas", "nas", doc="The NAS."),
    ),
    writers={"login": methods.write_login, "contacts": methods.write_login_contacts},
    methods=(
        Method("check_pass", methods.check_pass, writes=False, args='{"passwd": "..."}',
               returns="true or false", doc="Is this the login's password?"),
        Method("set_password", methods.set_password, writes=True,
               args='{"psw": "...", "dontshow": false}', returns="true",
               doc="Set the login's password (encrypted at rest, audited)."),
        Method("get_or_create_dynamic_session", methods.get_or_create_dynamic_session,
               writes=True, args="{}", returns='{"fields": {"suid": "..."}}',
               doc="A cabinet session for the login."),
    ),
    model_methods=(
        Method("web_cabinet.*", methods.web_cabinet, writes=True,
               args='{"login": ..., "passwd": ...} / {"suid": ...}',
               returns='["<the cabinet function\'s JSON answer as a string>"]',
               doc="The cabinet functions of the system API (context=web)."),
    ),
))


# --- Money: models_money.py (registered here, to keep this order in GET /rest_api/v2/)

from asr_billing.rest_v2 import models_money  # noqa: E402, F401

# --- Catalogue


def _rates() -> tuple[Field, ...]:
    names = ("rate_in", "ceil_in", "burst_in", "cburst_in",
             "rate_out", "ceil_out", "burst_out", "cburst_out")
    return tuple(Field(n, "int", n, "Shaping, kbit/s; null: not shaped (ours).") for n in names)


register(ModelSpec(
    name="Tarif",
    model="tariffs.Tariff",
    doc="Tariffs.",
    fields=(
        _id(),
        Field("name", "str", "name", "Name."),
        Field("summa", "decimal", "fee", "Fee per period of the charge method."),
        Field("charge_method", "str", "charge_method", "once, daily, monthly, monthly_spread."),
        Field("disconnect_threshold", "decimal", "disconnect_threshold",
              "Cut off when balance + credit + promised falls below it."),
        *_rates(),
        Field("is_active", "flag", "is_active", "1: available for new subscribers."),
        Field("comments", "str", "comments", "Comments.", default=False),
    ),
    order=("pk",),
))

register(ModelSpec(
    name="Usluga",
    model="tariffs.Service",
    doc="Services a subscriber can have besides the tariff.",
    fields=(
        _id(),
        Field("name", "str", "name", "Name."),
        Field("summa", "decimal", "fee", "Fee per period of the charge method."),
        Field("charge_method", "str", "charge_method", "once, daily, monthly, monthly_spread."),
        Field("comments", "str", "comments", "Description."),
        Field("is_show_web", "flag", "is_show_web", "Shown in the cabinet."),
        Field("web_allow_enable", "flag", "web_allow_enable", "Can be connected in the cabinet."),
        Field("web_allow_disable", "flag", "web_allow_disable",
              "Can be disconnected in the cabinet."),
        Field("is_active", "flag", "is_active", "Available."),
    ),
    order=("pk",),
))


def _service_active(record) -> bool:
    return record.disabled_on is None or record.disabled_on > timezone.localdate()


register(ModelSpec(
    name="UsersUsluga",
    model="subscribers.SubscriberService",
    doc="Services connected to subscribers.",
    fields=(
        _id(),
        Field("abonent_id", "int", "subscriber_id", "Id of the subscriber."),
        Field("usluga_id", "int", "service_id", "Id of the service (Usluga)."),
        Field("enable_date", "date", "enabled_on", "Connected on."),
        Field("disable_date", "date", "disabled_on", "Disconnected on; null: still on."),
        Field("activated", "flag", value=_service_active, doc="1 while connected."),
        Field("create_date", "datetime", "created_at", "When it was recorded."),
        Field("comment", "str", "comment", "Comment."),
    ),
    relations=(
        Relation("abonent", "Abonents", "subscriber", doc="The subscriber."),
        Relation("usluga", "Usluga", "service", doc="The service."),
    ),
    order=("pk",),
))

register(ModelSpec(
    name="AttributeValues",
    model="subscribers.AttributeValue",
    doc="Attribute values of subscribers: 4 INN, 5 KPP, 25/26 addresses, 1012 Telegram id.",
    fields=(
        _id(),
        Field("abonent_id", "int", "subscriber_id", "Id of the subscriber."),
        Field("attribute_id", "int", "attribute_id", "Attribute kind id."),
        Field("attribute_name", "str", "attribute__name", "Attribute kind name (ours)."),
        Field("attribute_value", "str", "value", writer="value", doc="The value."),
    ),
    relations=(Relation("abonent", "Abonents", "subscriber", doc="The subscriber."),),
    order=("pk",),
    writers={"value": methods.write_attribute_value},
    create=methods.create_attribute_value,
    create_fields=("abonent_id", "attribute_id", "attribute_value"),
))

register(ModelSpec(
    name="Nas",
    model="network.Nas",
    doc="NAS devices. The RADIUS secret is never exposed.",
    fields=(
        _id(),
        Field("name", "str", "name", "Name."),
        Field("ip", "ip", "ip", "IP address."),
        Field("nas_type", "str", "nas_type", "mikrotik, cisco, juniper, accel-ppp, xge, other."),
        Field("description", "str", "description", "Description."),
    ),
    order=("pk",),
))

register(ModelSpec(
    name="Version",
    model=None,
    doc="The billing's version: POST get_version=True (or method1=get_version).",
    model_methods=(
        Method("get_version", methods.get_version, writes=False, args="{}",
               returns='"0.1.0"', doc="The version of asr-billing."),
    ),
))
