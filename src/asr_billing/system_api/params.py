"""Reading the request the way real clients send it, and typed access to ``arg1``.

Quirks handled here, each needed by a known client (reference carbon-api.md §2-4):

- parameters come from the query string or a form body, GET or POST (a Go cabinet client
  POSTs with everything in the query string; REST-style clients post form bodies);
- ``arg1`` is often **not URL-encoded** (JS, 1C and C clients glue the JSON into the URL),
  so a literal ``+`` stays a plus and a ``&`` inside a value must not end it;
- 1C's own ``URLEncode`` writes Cyrillic as **cp1251** bytes (``%CE%EF...``), not UTF-8;
- ``{}``, ``[]``, an empty or a missing ``arg1`` mean "no arguments" (``[]``: PHP's
  ``json_encode(array())``, which Carbon's own helper web.php sends);
- 1C sends every value as a string (``"1361"``), numbers may carry NBSP group separators,
  dates come as ISO (``2023-03-01T00:00:00``, ``2023-03-01``) or as 1C prints them
  (``01.03.2023 0:00:00``), and 1C's empty date is ``01.01.0001 0:00:00``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput
from asr_billing.core.wire import (
    MAX_JSON_DEPTH,
    MAX_YEAR,
    MIN_YEAR,
    integral_text,
    nesting_depth,
    short,
    storable_text,
    url_decode,
)

PARAM_NAMES = ("model", "method1", "arg1", "context", "psw", "format", "fields1", "suid")
# Where an un-encoded arg1 ends: at "&" followed by a parameter name the API knows.
_NEXT_PARAM = re.compile(
    rb"&(?=(?:model|method\d+|arg\d+|context|psw|format|fields\d*|suid|hash_key)=)"
)
_ARG1_START = re.compile(rb"(?:^|&)arg1=")
MAX_DEPTH = MAX_JSON_DEPTH  # arg1 nesting; real clients send flat objects
# 1C's URLEncode percent-encodes Cyrillic as cp1251 bytes: read so what is not UTF-8.
ONE_C_ENCODING = "cp1251"
_ONE_C_DATE = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{1,4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII
)
_GROUPING = str.maketrans("", "", "\u00a0\u202f \t")
MAX_ID = 2**63 - 1  # BigAutoField; larger values would overflow the database driver
MAX_DIGITS = 30  # of a whole number argument; more is never an id, a count or a page


class ArgumentError(InvalidInput):
    """arg1 (or one of its values) cannot be used."""


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {storable_text(str(k)): _clean(v) for k, v in value.items()}
    return value


def raw_arg1(raw: bytes) -> bytes | None:
    """The still-encoded ``arg1`` of a raw query string or form body (bytes as received),
    up to the next known parameter, so an un-encoded ``&`` inside the JSON does not cut it.
    When arg1 is repeated the last one counts, as for every parameter (Django's QueryDict)."""
    found = None
    position = 0
    while (match := _ARG1_START.search(raw, position)) is not None:
        end = _NEXT_PARAM.search(raw, match.end())
        stop = end.start() if end else len(raw)
        found = raw[match.end() : stop]
        position = stop
    return found


def parse_arg1(decoded: str | None, raw: bytes | None) -> dict:
    """arg1 as a dict. ``decoded`` is Django's value, ``raw`` the undecoded text if known."""
    candidates: list[str] = []
    if raw is not None:
        if b"{" in raw or b'"' in raw:
            # Sent un-encoded: a literal "+" is a plus (phone numbers), not a space.
            candidates.append(
                url_decode(raw, plus_is_space=False, fallback_encoding=ONE_C_ENCODING)
            )
        candidates.append(url_decode(raw, plus_is_space=True, fallback_encoding=ONE_C_ENCODING))
    if decoded is not None:
        candidates.append(decoded)
    if not candidates:
        return {}
    for text in candidates:
        text = text.strip()
        if text in ("", "{}", "null", "None"):
            return {}
        try:
            value = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            return checked_arg1(value)
        if value == []:
            # PHP's json_encode of an empty array is a list: Carbon's billing_api_tools
            # (web.php's get_vpn_const) sends arg1=[] for "no arguments".
            return {}
        raise ArgumentError(_("arg1 must be a JSON object such as {\"nas_ip\": \"10.0.0.1\"}"))
    raise ArgumentError(_("arg1 is not valid JSON"))


def checked_arg1(value: dict) -> dict:
    """An arg1 object already parsed (from the URL or a JSON body): nesting bounded, text
    the database cannot store replaced."""
    if nesting_depth(value) > MAX_DEPTH:
        raise ArgumentError(_("arg1 is nested too deeply"))
    return _clean(value)


def parse_fields(text: str | None) -> list[str] | None:
    """``fields1`` of the old API: a JSON list (``["op_id"]``) or comma-separated names."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = [part for part in text.split(",")]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return None
    names = [storable_text(str(v)).strip() for v in value if str(v).strip()]
    return names or None


class Args(Mapping):
    """Typed, lenient access to the arguments. Every error names the argument."""

    def __init__(self, data: dict):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def present(self, name: str) -> bool:
        """Given and not empty (clients send "" or null for "not given")."""
        value = self._data.get(name)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def _missing(self, name: str) -> ArgumentError:
        return ArgumentError(_("Argument %(name)s is required") % {"name": name})

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        if not self.present(name):
            if required:
                raise self._missing(name)
            return default
        value = self._data[name]
        # A number is taken as its digits (ids, sums); true/false is never a text: read as
        # "1" it was a sum of 1.00 or the id "1" of another payment. Flags use flag().
        if isinstance(value, (dict, list, bool)):
            raise ArgumentError(_("Argument %(name)s must be a string") % {"name": name})
        return str(value).strip()

    def integer(
        self, name: str, *, required: bool = False, default: int | None = None
    ) -> int | None:
        """A whole number given as a number or a string ("1361", "1 361" with NBSP)."""
        if not self.present(name):
            if required:
                raise self._missing(name)
            return default
        value = self._data[name]
        error = ArgumentError(
            _("Argument %(name)s must be a whole number, not %(value)s")
            % {"name": name, "value": short(value)}
        )
        if isinstance(value, (bool, dict, list)):
            raise error
        if isinstance(value, (int, Decimal)):
            # Bounded before int(): int(Decimal("1E+999999")) runs for minutes and a larger
            # exponent exhausts memory (JSON numbers arrive as Decimals, any exponent).
            if isinstance(value, Decimal) and (
                not value.is_finite() or value.adjusted() >= MAX_DIGITS
            ):
                raise error
            if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
                raise error
            number = value
        else:
            # "2.0" too: the Android cabinet sends back ids Gson read as Doubles.
            number = integral_text(str(value).translate(_GROUPING))
            if number is None:
                raise error
        if number != int(number):
            raise error
        return int(number)

    def object_id(self, name: str, *, required: bool = True) -> int | None:
        """A database id: a whole number from 1 to 2**63-1."""
        number = self.integer(name, required=required)
        if number is None:
            return None
        if not 0 < number <= MAX_ID:
            raise ArgumentError(
                _("Argument %(name)s must be a positive whole number, not %(value)s")
                % {"name": name, "value": number}
            )
        return number

    def flag(self, name: str, *, default: bool) -> bool:
        """"1"/"0", 1/0, true/false."""
        if not self.present(name):
            return default
        value = self._data[name]
        text = str(value).strip().lower()
        if value is True or text in ("1", "true", "yes", "y", "on"):
            return True
        if value is False or text in ("0", "false", "no", "n", "off"):
            return False
        raise ArgumentError(
            _("Argument %(name)s must be 1 or 0, not %(value)s")
            % {"name": name, "value": short(value)}
        )

    def moment(self, name: str, *, end_of_day: bool = False) -> datetime | None:
        """A point in local time (app['time_zone']); None when not given or 1C's empty date.

        A date without a time means the start of that day, or its last microsecond when
        ``end_of_day`` (so an end date of 2023-04-03 includes the whole of that day).
        """
        if not self.present(name):
            return None
        value = self._data[name]
        parsed = parse_moment(str(value)) if not isinstance(value, (dict, list)) else None
        if parsed is None:
            raise ArgumentError(
                _(
                    "Argument %(name)s must be a date such as 2023-03-01, 2023-03-01T00:00:00 "
                    "or 01.03.2023 0:00:00, not %(value)s"
                )
                % {"name": name, "value": short(value)}
            )
        if parsed is EMPTY_DATE:
            return None
        moment, has_time = parsed
        if isinstance(moment, date) and not isinstance(moment, datetime):
            moment = datetime.combine(moment, time.min)
        if end_of_day and not has_time:
            moment = moment + timedelta(days=1) - timedelta(microseconds=1)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


EMPTY_DATE = object()


def parse_moment(text: str):
    """-> (date or datetime, has_time), EMPTY_DATE for 1C's 01.01.0001, None if unreadable."""
    text = text.strip()
    match = _ONE_C_DATE.fullmatch(text)
    try:
        if match:
            day, month, year, hour, minute, second = match.groups()
            if int(year) == 1 and int(month) == 1 and int(day) == 1:
                return EMPTY_DATE  # 1C's empty date: "no bound"
            if hour is None:
                result, has_time = date(int(year), int(month), int(day)), False
            else:
                result = datetime(int(year), int(month), int(day), int(hour), int(minute),
                                  int(second or 0))
                has_time = True
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            result, has_time = date.fromisoformat(text), False
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.+\-Z]+", text):
            result, has_time = datetime.fromisoformat(text), True
        else:
            return None
    except ValueError:
        return None
    if result.year == 1 and isinstance(result, date):
        return EMPTY_DATE
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        return None
    return result, has_time


@dataclass
class Call:
    """One request to a system API function, as the function sees it."""

    method: str
    context: str
    args: Args
    source_ip: str
    model: str = ""
    fields: list[str] | None = None
    suid: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def actor(self) -> str:
        """Who acted, for the audit log and the ledger: "system_api:<context>"."""
        return f"system_api:{self.context}"[:100]
