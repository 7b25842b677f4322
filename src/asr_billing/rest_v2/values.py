"""Wire values of REST v2: reading argument values and rendering field values.

Types a declared field can have (``registry.Field.type``):

=========  =====================================  =======================================
type       accepted in arguments                  rendered as
=========  =====================================  =======================================
int        1361, "1361", "1361.0"                 1361
str        any string; numbers become strings     the string
flag       0/1, "0"/"1", true/false, "true"       0 or 1 (Carbon's Firebird flags)
decimal    "600", "600.50", "600,50", 600.5       "600.50" (a string: money is never float)
date       "2016-05-26", "2016-05-26 00:00:00"    "2016-05-26"
datetime   "2023-03-01 10:00:00", "2023-03-01"    "2023-03-01T10:00:00" (local time)
ip         "10.20.30.41"                          "10.20.30.41"
=========  =====================================  =======================================

Dates follow Carbon's documented argument formats ``%Y-%m-%d %H:%M:%S`` and ``%Y-%m-%d``
(the ISO ``T`` separator is accepted too, so what we render can be sent back). A date
without a time is midnight, as Django reads it: ``op_date__range`` with
``["2023-03-01", "2023-03-31"]`` ends at 2023-03-31 00:00:00, exactly like Carbon.
Datetimes are in the operator's time zone (``app['time_zone']``).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput
from asr_billing.core.money import MoneyError, amount_too_large, fmt, parse_amount, too_large
from asr_billing.core.wire import MAX_YEAR, MIN_YEAR, integral_text, short, storable_text

TYPES = ("int", "str", "flag", "decimal", "date", "datetime", "ip")
MAX_INT = 2**63 - 1  # BigAutoField; a larger value would overflow the database driver
MAX_TEXT = 1000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")
TRUE_TEXTS = {"1", "true", "yes", "on"}
FALSE_TEXTS = {"0", "false", "no", "off", ""}


class ValueRefused(InvalidInput):
    """An argument value does not fit the declared type."""


def _refuse(name: str, kind: str, value: Any) -> ValueRefused:
    return ValueRefused(
        _('%(name)s expects %(kind)s, got "%(value)s"')
        % {"name": name, "kind": kind, "value": short(value)}
    )


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _refuse(name, _("an integer"), value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and integral_text(value) is not None:
        # "2.0" too: the Android cabinet sends back ids Gson read as Doubles.
        number = integral_text(value)
    else:
        raise _refuse(name, _("an integer"), value)
    if abs(number) > MAX_INT:
        raise _refuse(name, _("an integer"), value)
    return number


def _as_flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
    raise _refuse(name, _("0 or 1"), value)


def _as_text(value: Any, name: str) -> str:
    if isinstance(value, (bool, dict, list)):
        raise _refuse(name, _("a string"), value)
    text = storable_text(str(value))
    if len(text) > MAX_TEXT:
        raise ValueRefused(
            _("%(name)s is longer than %(n)d characters") % {"name": name, "n": MAX_TEXT}
        )
    return text


def _as_decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise _refuse(name, _("an amount such as 600.00"), value)
    if too_large(value):  # 1e13, 30 digits: say why, not just "expects an amount"
        raise amount_too_large(name)
    try:
        return parse_amount(value, positive=False)
    except MoneyError:
        raise _refuse(name, _("an amount such as 600.00"), value) from None


def _parse_moment(value: Any) -> tuple[date | datetime, bool] | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DATE.fullmatch(text):
            result, has_time = date.fromisoformat(text), False
        else:
            match = _DATETIME.fullmatch(text)
            if match is None:
                return None
            day, hour, minute, second = match.groups()
            result = datetime.combine(
                date.fromisoformat(day), time(int(hour), int(minute), int(second or 0))
            )
            has_time = True
    except ValueError:
        return None
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        return None
    return result, has_time


def _as_date(value: Any, name: str) -> date:
    parsed = _parse_moment(value)
    if parsed is None:
        raise _refuse(name, _("a date such as 2016-05-26"), value)
    moment, _has_time = parsed
    return moment.date() if isinstance(moment, datetime) else moment


def _as_datetime(value: Any, name: str) -> datetime:
    parsed = _parse_moment(value)
    if parsed is None:
        raise _refuse(name, _("a date such as 2023-03-01 10:00:00 or 2023-03-01"), value)
    moment, _has_time = parsed
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min)
    return timezone.make_aware(moment)


def _as_ip(value: Any, name: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise _refuse(name, _("an IP address"), value) from None


_PARSERS = {
    "int": _as_int,
    "str": _as_text,
    "flag": _as_flag,
    "decimal": _as_decimal,
    "date": _as_date,
    "datetime": _as_datetime,
    "ip": _as_ip,
}


def parse_value(ftype: str, value: Any, *, name: str) -> Any:
    """An argument value converted to the field's Python type. ``None`` stays ``None``
    (the caller decides whether the field may be empty)."""
    if value is None:
        return None
    return _PARSERS[ftype](value, name)


def parse_flag(value: Any, *, name: str) -> bool:
    return _as_flag(value, name)


def render_value(ftype: str, value: Any) -> Any:
    """A Python value as it leaves in JSON."""
    if value is None:
        return None
    if ftype == "flag":
        return 1 if value else 0
    if ftype == "decimal":
        return fmt(value)
    if ftype == "datetime":
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        return value.isoformat()
    if ftype == "date":
        if isinstance(value, datetime):
            value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        return value.isoformat()
    if ftype == "int":
        return int(value)
    return str(value)
