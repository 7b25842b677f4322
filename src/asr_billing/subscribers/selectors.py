"""Reads about subscribers."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from asr_billing.core.db import prepared_cursor
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


def subscriber_in_block(subscriber: Subscriber) -> bool:
    """The Internet is off for the subscriber: cut off by balance (negbal), blocked by the
    administrator, or on a voluntary block. Carbon's ``in_block``; its ``allow_internet``
    is the negation. No query: the flags are the subscriber's own."""
    return bool(subscriber.negbal or subscriber.admin_blocked or subscriber.voluntary_blocked)
