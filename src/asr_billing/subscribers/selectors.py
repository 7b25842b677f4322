"""Reads about subscribers."""

from __future__ import annotations

import ipaddress

from asr_billing.subscribers.models import Subscriber


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
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # Logins store an IPv4-mapped IPv6 address as the IPv4 one (network.services).
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    ip = str(address)
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
