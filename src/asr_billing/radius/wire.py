"""rlm_rest's JSON, both ways (reference radius-and-payments.md §1.2–1.3).

Request (``body = 'json'``): the request list as ``{"<Attribute>": {"type": "<type>",
"value": [<value>, …]}}`` — integers as JSON numbers but enumerations as their names
(``"Acct-Status-Type": {"type": "integer", "value": ["Start"]}``), addresses dotted,
octets as ``"0x…"`` hex, dates as ``"Nov 28 2026 10:00:00 UTC"`` (FreeRADIUS's local
zone). Attributes we do not read are ignored whatever they hold; one we read in another
shape is a BadPacket (answered 400: it is not what rlm_rest sends).

Reply: ``{"<list>:<Attribute>": {"value": …, "do_xlat": false}}``. ``do_xlat`` is false
for every value because rlm_rest expands ``%{…}`` by default and silently drops an
attribute whose expansion fails (a login or pool with a ``%`` in it would vanish); several
values of one attribute go as a list with ``"op": "+="`` (one attribute per value).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.utils import timezone

# RADIUS "integer" attributes are 32 bits; anything beyond is not from FreeRADIUS.
UINT32_MAX = 2**32 - 1
TEXT_MAX = 4096  # longer than any RADIUS attribute (253 bytes) can carry, with room
MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


class BadPacket(Exception):
    """The body is not rlm_rest's JSON; the text says what is wrong (no value echoed)."""


def decode(body: bytes) -> Packet:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadPacket("the body is not JSON") from None
    if not isinstance(data, dict):
        raise BadPacket("the body is not a JSON object of attributes")
    return Packet(data)


class Packet:
    """Typed reads of the attributes of one request."""

    def __init__(self, data: dict):
        self._data = data

    def values(self, name: str) -> list:
        entry = self._data.get(name)
        if entry is None:
            return []
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), list):
            raise BadPacket(f'{name}: not {{"type": …, "value": [...]}}')
        return entry["value"]

    def has(self, name: str) -> bool:
        return bool(self.values(name))

    def text(self, name: str, default: str | None = None) -> str | None:
        """The first value, a string (see texts()); ``default`` when absent."""
        values = self.texts(name)
        return values[0] if values else default

    def texts(self, name: str) -> list[str]:
        """Every value, strings cut to TEXT_MAX. A NUL becomes U+FFFD: PostgreSQL cannot
        take NUL in a query or a row, and the value must still match no login."""
        values = self.values(name)
        if not all(isinstance(v, str) for v in values):
            raise BadPacket(f"{name}: not a string")
        return [v[:TEXT_MAX].replace("\x00", "\ufffd") for v in values]

    def integer(self, name: str) -> int | None:
        """The first value, an unsigned 32-bit number; None when absent."""
        values = self.values(name)
        if not values:
            return None
        value = values[0]
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
            value = int(value)  # raw_value or a policy that set it as text
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT32_MAX:
            raise BadPacket(f"{name}: not a 32-bit unsigned number")
        return value

    def integer64(self, name: str) -> int | None:
        """The first value of an ``integer64`` attribute (acct_counters64's
        Acct-Input-Octets64); None when absent."""
        values = self.values(name)
        if not values:
            return None
        value = values[0]
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise BadPacket(f"{name}: not a 64-bit unsigned number")
        return value

    def name_or_number(self, name: str) -> str:
        """An enumeration as rlm_rest sends it (its name; the number with raw_value), as
        text; '' when absent."""
        values = self.values(name)
        if not values:
            return ""
        value = values[0]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise BadPacket(f"{name}: not a name or a number")
        return str(value)[:64].replace("\x00", "\ufffd")

    def date(self, name: str) -> datetime | None:
        """A date attribute as an aware datetime; None when absent.

        rlm_rest prints ``%b %e %Y %H:%M:%S %Z`` in FreeRADIUS's local zone. UTC/GMT are
        read as such; any other zone name (``MSK``) is taken as app['time_zone'] — the
        zone the billing runs in, normally FreeRADIUS's too. A number is Unix seconds.
        """
        values = self.values(name)
        if not values:
            return None
        value = values[0]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= UINT32_MAX:
            return datetime.fromtimestamp(value, UTC)
        if not isinstance(value, str):
            raise BadPacket(f"{name}: not a date")
        parts = value.split()
        try:
            month, day, year, clock = parts[0], int(parts[1]), int(parts[2]), parts[3]
            hour, minute, second = (int(p) for p in clock.split(":"))
            naive = datetime(year, MONTHS[month], day, hour, minute, second)
        except (IndexError, KeyError, ValueError):
            raise BadPacket(f"{name}: not a date like 'Nov 28 2026 10:00:00 UTC'") from None
        zone = parts[4] if len(parts) > 4 else "UTC"
        if zone in ("UTC", "GMT", "Z"):
            return naive.replace(tzinfo=UTC)
        return timezone.make_aware(naive)


def _wrap(values: list[str]) -> dict:
    if len(values) == 1:
        return {"value": values[0], "do_xlat": False}
    return {"value": list(values), "op": "+=", "do_xlat": False}


def encode(*, reply: dict[str, list[str]] | None = None,
           control: dict[str, list[str]] | None = None,
           request: dict[str, list[str]] | None = None) -> dict:
    """The JSON object rlm_rest applies: ``<list>:<Attribute>`` -> value(s)."""
    result = {}
    for prefix, attributes in (("control", control), ("reply", reply), ("request", request)):
        for name, values in (attributes or {}).items():
            if values:
                result[f"{prefix}:{name}"] = _wrap(values)
    return result
