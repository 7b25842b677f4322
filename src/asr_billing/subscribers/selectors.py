"""Reads about subscribers."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from decimal import Decimal

from asr_billing.core.db import prepared_cursor
from asr_billing.core.money import CENT
from asr_billing.subscribers.models import Subscriber


@dataclass(frozen=True)
class SubscriberRef:
    """The columns a payment needs of a subscriber, without building a model instance."""

    pk: int
    contract_number: str
    name: str


def login_ip(text: str) -> str | None:
    """The text as a login's stored IP (IPv4-mapped IPv6 is stored as the IPv4 address,
    network.services), or None when it is no IP address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def subscriber_ref_sql(identifier: str) -> tuple[str, list] | None:
    """``subscriber_find``'s rule (contract number, then login, then the IP of an enabled
    login) as one indexed query of (id, contract number, name, rank), at most one row;
    None for an empty identifier. Payments embed it (finance.selectors.payment_target)."""
    from asr_billing.network.models import Login

    text = str(identifier).strip()
    if not text:
        return None
    subscribers, logins = Subscriber._meta.db_table, Login._meta.db_table
    branches = [
        f"SELECT id, contract_number, name, 1 AS rank FROM {subscribers}"  # noqa: S608
        " WHERE contract_number = %s",
        f"SELECT s.id, s.contract_number, s.name, 2 FROM {logins} l"  # noqa: S608
        f" JOIN {subscribers} s ON s.id = l.subscriber_id WHERE l.login = %s",
    ]
    params = [text, text]
    ip = login_ip(text)
    if ip is not None:
        branches.append(
            f"SELECT s.id, s.contract_number, s.name, 3 FROM {logins} l"  # noqa: S608
            f" JOIN {subscribers} s ON s.id = l.subscriber_id"
            " WHERE l.ip = %s AND l.enabled"
        )
        params.append(ip)
    return " UNION ALL ".join(branches) + " ORDER BY 4 LIMIT 1", params


def subscriber_ref_find(identifier: str) -> SubscriberRef | None:
    """``subscriber_find`` in one query, returning only what a payment answer needs."""
    query = subscriber_ref_sql(identifier)
    if query is None:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(*query)
        row = cursor.fetchone()
    return SubscriberRef(row[0], row[1], row[2]) if row is not None else None


# What a payment gateway's account field may hold (payments['<type>.<name>.account']).
PAYER_KEYS = ("contract", "login", "ip", "id")
MAX_ID_DIGITS = 18  # a bigint holds every 18-digit number


@dataclass(frozen=True)
class PayerRef(SubscriberRef):
    """A subscriber as a payment gateway finds one: what the answer shows and what its
    rules read. ``balance`` in roubles, None when the subscriber has no account."""

    is_company: bool
    admin_blocked: bool
    balance: Decimal | None


def payer_sql(*, by: str, value: str) -> tuple[str, list] | None:
    """The query behind ``payer_find``; None when ``value`` cannot be such a key (an
    empty text, an id that is no number, an IP that is no address)."""
    from asr_billing.finance.models import Account
    from asr_billing.network.models import Login

    text = str(value).strip()
    if not text:
        return None
    subscribers, accounts = Subscriber._meta.db_table, Account._meta.db_table
    columns = (
        "s.id, s.contract_number, s.name, s.is_company, s.admin_blocked, a.balance"
        f" FROM {subscribers} s LEFT JOIN {accounts} a ON a.subscriber_id = s.id"
    )
    if by == "contract":
        return f"SELECT {columns} WHERE s.contract_number = %s", [text]
    if by == "id":
        if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
            return None
        return f"SELECT {columns} WHERE s.id = %s", [int(text)]
    logins = Login._meta.db_table
    join = f"SELECT {columns} JOIN {logins} l ON l.subscriber_id = s.id"
    if by == "login":
        return f"{join} WHERE l.login = %s", [text]
    if by == "ip":
        ip = login_ip(text)
        return (f"{join} WHERE l.ip = %s AND l.enabled", [ip]) if ip is not None else None
    raise ValueError(f"unknown payer key {by!r}; one of {', '.join(PAYER_KEYS)}")


def payer_valid(*, by: str, value: str) -> bool:
    """Whether ``value`` can be a key of that kind at all (no query)."""
    return payer_sql(by=by, value=value) is not None


def payer_find(*, by: str, value: str) -> PayerRef | None:
    """The subscriber whose contract number, login, login IP (of an enabled login) or id
    is ``value``, in one indexed query of the columns a gateway needs; None when there is
    none (or ``value`` cannot be such a key)."""
    query = payer_sql(by=by, value=value)
    if query is None:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(*query)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, contract, name, is_company, blocked, balance = row
    if balance is not None and not isinstance(balance, Decimal):
        balance = Decimal(str(balance)).quantize(CENT)  # SQLite hands back a float
    return PayerRef(pk, contract, name, bool(is_company), bool(blocked), balance)


def subscriber_find(identifier: str) -> Subscriber | None:
    """Find a subscriber the way payment systems identify one: by contract number,
    then by login, then by the IP of an enabled login (Carbon's act_pay does the same)."""
    from asr_billing.network.models import Login

    text = str(identifier).strip()
    if not text:
        return None
    found = Subscriber.objects.select_related("tariff").filter(contract_number=text).first()
    if found is not None:
        return found
    login = Login.objects.select_related("subscriber__tariff").filter(login=text).first()
    if login is not None:
        return login.subscriber
    ip = login_ip(text)
    if ip is None:
        return None
    login = (
        Login.objects.select_related("subscriber__tariff").filter(ip=ip, enabled=True).first()
    )
    return login.subscriber if login is not None else None


def group_descendant_ids(group_id: int) -> list[int]:
    """The group and every group below it (one query per level of the tree). A cycle
    written into the database by hand ends the walk instead of looping forever."""
    from asr_billing.subscribers.models import Group

    result = [group_id]
    seen = {group_id}
    frontier = [group_id]
    while frontier:
        below = Group.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        frontier = [pk for pk in below if pk not in seen]
        seen.update(frontier)
        result.extend(frontier)
    return result


def group_ancestor_ids(group_id: int) -> list[int]:
    """The group and every group above it, nearest first (one query per level). A cycle
    written into the database by hand ends the walk instead of looping forever."""
    from asr_billing.subscribers.models import Group

    result = [group_id]
    current = group_id
    while True:
        parent = Group.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        if parent is None or parent in result:
            return result
        result.append(parent)
        current = parent


def subscriber_in_block(subscriber: Subscriber) -> bool:
    """The Internet is off for the subscriber: cut off by balance (negbal), blocked by the
    administrator, or on a voluntary block. Carbon's ``in_block``; its ``allow_internet``
    is the negation. No query: the flags are the subscriber's own."""
    return bool(subscriber.negbal or subscriber.admin_blocked or subscriber.voluntary_blocked)
