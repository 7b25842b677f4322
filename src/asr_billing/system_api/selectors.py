"""Reads the system API needs that no other module shares: the collector lists and the
subscriber lists 1C asks for. They return plain rows; the managers rename for the wire."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    Func,
    GenericIPAddressField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.network.models import Login, OnlineSession
from asr_billing.subscribers.models import Attribute, AttributeValue, Group, Subscriber

COLLECTOR_KINDS = ("negbal", "blocked", "logged")

# Columns of one collector row, in the order of the wire line (16 fields); the values
# are taken straight from the database in one query.
COLLECTOR_COLUMNS = {
    "ip": "line_ip",
    "login": "login",
    "snatip": "snat_ip",
    "mac": "mac",
    "logged": "logged",
    "negbal": "subscriber__negbal",
    "admin_blocked": "subscriber__admin_blocked",
    "voluntary_blocked": "subscriber__voluntary_blocked",
    "rate_in": "subscriber__tariff__rate_in",
    "ceil_in": "subscriber__tariff__ceil_in",
    "burst_in": "subscriber__tariff__burst_in",
    "rate_out": "subscriber__tariff__rate_out",
    "ceil_out": "subscriber__tariff__ceil_out",
    "burst_out": "subscriber__tariff__burst_out",
    "nas_ip": "nas__ip",
    "cburst_in": "subscriber__tariff__cburst_in",
    "cburst_out": "subscriber__tariff__cburst_out",
}


def collector_rows(*, nas_ip: str, kind: str) -> Iterable[tuple]:
    """Enabled logins on the NAS with this IP whose subscriber is cut off by balance
    (``negbal``), blocked by the administrator or by a voluntary block (``blocked``), or
    has an open session (``logged``); ordered by login. Exactly one SQL query.

    ``nas_ip`` must be normalised (str(ipaddress.ip_address(...))). Rows are tuples in
    COLLECTOR_COLUMNS order. The IP is the login's own, else the open session's (dynamic
    PPPoE addresses). Disabled logins are left out: one may keep a stale IP that now
    belongs to another, enabled login, and the NAS lists are keyed by IP.
    """
    return _collector_queryset(nas_ip=nas_ip, kind=kind).values_list(
        *COLLECTOR_COLUMNS.values()
    )


def _collector_queryset(*, nas_ip: str, kind: str) -> QuerySet:
    if kind not in COLLECTOR_KINDS:
        raise ValueError(f"kind is one of {COLLECTOR_KINDS}")
    open_sessions = OnlineSession.objects.filter(login=OuterRef("pk"), stopped_at__isnull=True)
    rows = Login.objects.filter(nas__ip=nas_ip, enabled=True)
    if kind == "logged":
        # Filter on the session once; every row is then logged (no second probe per row).
        rows = rows.filter(Exists(open_sessions)).annotate(logged=Value(True))
    else:
        rows = rows.annotate(logged=Exists(open_sessions))
    rows = rows.annotate(
        line_ip=Coalesce(
            "ip",
            Subquery(open_sessions.order_by("-started_at").values("ip")[:1]),
            output_field=GenericIPAddressField(),
        ),
    )
    if kind == "negbal":
        rows = rows.filter(subscriber__negbal=True)
    elif kind == "blocked":
        rows = rows.filter(
            Q(subscriber__admin_blocked=True) | Q(subscriber__voluntary_blocked=True)
        )
    return rows.order_by("login")


def _as_text(expression, placeholder: str):
    return Coalesce(Cast(expression, TextField()), Value(placeholder), output_field=TextField())


def _ip_text(expression, placeholder: str, postgres: bool):
    if postgres:
        # host(): an inet's address without the /32 that a cast to text adds.
        expression = Func(expression, function="host", output_field=TextField())
    return Coalesce(expression, Value(placeholder), output_field=TextField())


def _flag(condition: Q):
    return Case(When(condition, then=Value("1")), default=Value("0"), output_field=TextField())


def _line_expression(placeholder: str, postgres: bool):
    """One collector line as an SQL expression: collector.line() in the database."""
    tariff = "subscriber__tariff__"
    columns = [
        _ip_text("line_ip", placeholder, postgres),
        "login",
        _ip_text("snat_ip", placeholder, postgres),
        Coalesce(NullIf("mac", Value("")), Value(placeholder), output_field=TextField()),
        _flag(Q(logged=True)),
        _flag(Q(subscriber__negbal=True)),
        _flag(Q(subscriber__admin_blocked=True) | Q(subscriber__voluntary_blocked=True)),
        *[
            _as_text(tariff + name, placeholder)
            for name in ("rate_in", "ceil_in", "burst_in", "rate_out", "ceil_out", "burst_out")
        ],
        _ip_text("nas__ip", placeholder, postgres),
        _as_text(tariff + "cburst_in", placeholder),
        _as_text(tariff + "cburst_out", placeholder),
    ]
    if postgres:
        return Func(Value(" "), *columns, function="concat_ws", output_field=TextField())
    # SQLite before 3.44 has no concat_ws; every column is non-null, so || is safe.
    spaced = [part for column in columns for part in (Value(" "), column)][1:]
    return Func(*spaced, template="(%(expressions)s)", arg_joiner=" || ",
                output_field=TextField())


def collector_text(*, nas_ip: str, kind: str, placeholder: str) -> str:
    """The whole text answer of a collector list, each line formatted by the database.

    Same lines as collector.line() over collector_rows(), byte for byte (a test holds the
    two together). On a NAS with 100,000 logins, formatting 16 columns per line in Python
    costs more than the query, so the database does it: PostgreSQL also joins the lines
    (string_agg); on SQLite Python joins the ready lines (bench/collector_list.py).
    """
    postgres = connection.vendor == "postgresql"
    queryset = _collector_queryset(nas_ip=nas_ip, kind=kind).annotate(
        text_line=_line_expression(placeholder, postgres)
    )
    if postgres:
        from django.contrib.postgres.aggregates import StringAgg

        result = queryset.order_by().aggregate(
            text=StringAgg("text_line", delimiter="\n", order_by="login")
        )["text"]
        return result + "\n" if result else ""
    return "".join([text + "\n" for text in queryset.values_list("text_line", flat=True)])


def iptv_accept_rows(*, day: date) -> Iterable[tuple]:
    """(IP, service id, channel text) for every IPTV package (a service with channels)
    running on ``day`` for a subscriber allowed online, one row per login and package,
    ordered by service name. Exactly one SQL query.

    Allowed online as the collector lists decide it: not cut off by balance (negbal),
    not blocked by the administrator, not on a voluntary block. Running: connected on or
    before ``day`` and not disconnected by then (SubscriberService.disabled_on is the
    first day without it). The IP is the enabled login's own, else its open session's
    (dynamic PPPoE), as in collector_rows; a login with neither is left out.
    """
    open_sessions = OnlineSession.objects.filter(login=OuterRef("pk"), stopped_at__isnull=True)
    running = Q(subscriber__services__enabled_on__lte=day) & (
        Q(subscriber__services__disabled_on__isnull=True)
        | Q(subscriber__services__disabled_on__gt=day)
    )
    return (
        Login.objects.filter(
            enabled=True,
            subscriber__negbal=False,
            subscriber__admin_blocked=False,
            subscriber__voluntary_blocked=False,
        )
        # One filter() call: the conditions hold for the same service row (one join);
        # a text is > "" when it is not empty (a negated condition would be a subquery).
        .filter(running, subscriber__services__service__channels__gt="")
        .annotate(
            line_ip=Coalesce(
                "ip",
                Subquery(open_sessions.order_by("-started_at").values("ip")[:1]),
                output_field=GenericIPAddressField(),
            )
        )
        .filter(line_ip__isnull=False)
        .order_by("subscriber__services__service__name", "subscriber__services__service_id")
        .values_list("line_ip", "subscriber__services__service_id",
                     "subscriber__services__service__channels")
    )


def subscribers_for_1c(*, group_ids: list[int] | None, synced: bool) -> QuerySet:
    """Subscribers in the given groups (None: all) with the given 1C sync state, by id."""
    rows = Subscriber.objects.filter(synced_1c=synced)
    if group_ids is not None:
        rows = rows.filter(group_id__in=group_ids)
    return rows.order_by("id")


def attribute_values_of(subscriber_id: int) -> dict[int, AttributeValue]:
    """attribute id -> AttributeValue of one subscriber."""
    return {
        value.attribute_id: value
        for value in AttributeValue.objects.filter(subscriber_id=subscriber_id)
    }


def logins_of(subscriber_id: int) -> QuerySet:
    return Login.objects.filter(subscriber_id=subscriber_id).order_by("login")


def operations_for_1c(
    *,
    subscriber_id: int,
    types: Iterable[int],
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet:
    """The ledger rows of one account 1C should see as documents of the given types,
    with start <= op_date <= end (either bound may be None), oldest first, with what the
    1C answer names. One query.

    - Rows of those types, except one reversed before 1C took it (it never reaches 1C);
      a row 1C has (a 1C code, or marked synced) stays listed, reversed or not.
    - Reversals of rows of those types that 1C has: 1C booked the original as a document,
      so the storno must reach it as a document of its own (by the reversal's own date,
      code and synced flag), or 1C's books keep a payment or an act the billing cancelled.
    """
    types = [int(t) for t in types]
    taken = Q(synced_1c=True) | ~Q(code1c="")
    original_taken = Q(reverses__synced_1c=True) | ~Q(reverses__code1c="")
    rows = (
        Operation.objects.filter(account_id=subscriber_id)
        .filter(
            Q(type__in=types) & (taken | Q(reversed_by__isnull=True))
            | Q(type=OperationType.REVERSAL, reverses__type__in=types) & original_taken
        )
        .select_related("pay_operator", "tariff", "service", "reverses__tariff",
                        "reverses__service")
        .order_by("op_date", "id")
    )
    if start is not None:
        rows = rows.filter(op_date__gte=start)
    if end is not None:
        rows = rows.filter(op_date__lte=end)
    return rows


def operation_for_1c(op_id: int) -> Operation | None:
    return (
        Operation.objects.select_related(
            "account__subscriber", "pay_operator", "tariff", "service", "reversed_by",
            "reverses__tariff", "reverses__service",
        )
        .filter(pk=op_id)
        .first()
    )


def subscriber_by_id(subscriber_id: int) -> Subscriber | None:
    return Subscriber.objects.filter(pk=subscriber_id).first()


def subscriber_by_code1c(code1c: str) -> Subscriber | None:
    return Subscriber.objects.filter(code1c=code1c).first() if code1c else None


def group_by_id(group_id: int) -> Group | None:
    return Group.objects.filter(pk=group_id).first()


def attribute_kinds() -> QuerySet:
    return Attribute.objects.order_by("id")


def operation_by_id(op_id: int) -> Operation | None:
    return Operation.objects.filter(pk=op_id).first()


def payment_operators_enabled() -> list[tuple[str, str]]:
    """(code, name) of every enabled payment operator, by code."""
    return list(PaymentOperator.objects.filter(enabled=True).order_by("code")
                .values_list("code", "name"))


def payment_operator_enabled(code: str) -> PaymentOperator | None:
    """The enabled payment operator with this code (a disabled one counts as unknown)."""
    return PaymentOperator.objects.filter(code=code, enabled=True).first() if code else None


def account_balance(subscriber_id: int):
    """The balance (Decimal) of the subscriber's account, None without an account."""
    return Account.objects.filter(pk=subscriber_id).values_list("balance", flat=True).first()


def payment_with_subscriber(op_id: int) -> Operation:
    return Operation.objects.select_related("account__subscriber", "pay_operator").get(pk=op_id)


def payment_by_external_id(*, operator_code: str, external_id: str) -> Operation | None:
    """The payment an operator sent under its own id, with its subscriber and reversal."""
    return (
        Operation.objects.select_related("account__subscriber", "reversed_by")
        .filter(pay_operator__code=operator_code, external_id=external_id,
                type=OperationType.PAYMENT)
        .first()
    )
