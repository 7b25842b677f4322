"""Value checks and the key record of ``cfg/config``'s schema, shared by config_schema
and the per-section schema modules (config_schema_radius). Validators raise ValueError with
a short reason. This module must not import Django.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from asr_billing.core.cli_text import gettext as _

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LANGUAGES = ("ru", "en")
CONTEXT_RE = re.compile(r"[a-z][a-z0-9_]*")


def _one_of(choices: tuple[str, ...]) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in choices:
            raise ValueError(_("must be one of %(choices)s, not %(value)r")
                             % {"choices": ", ".join(choices), "value": value})

    return check


def check_networks(value: str) -> None:
    for item in value.split():
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(_("%(item)r is not an IP address or CIDR network")
                             % {"item": item}) from None


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in value.split()]


def check_contexts(value: str) -> None:
    for item in value.split():
        if not CONTEXT_RE.fullmatch(item):
            raise ValueError(_("%(item)r is not a context name (lowercase letters, digits, _)")
                             % {"item": item})


def check_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("unknown time zone %(value)r") % {"value": value}) from None


def check_db_url(value: str) -> None:
    if not value:
        return
    message = _("must be empty (SQLite in var/) or postgresql://user:pass@host:port/db")
    if not re.match(r"^(postgres|postgresql)://", value):
        raise ValueError(message)
    try:
        urlsplit(value).port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(message) from None


def check_currency(value: str) -> None:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(_("must be an ISO 4217 code such as RUB"))


def check_api_key(value: str) -> None:
    if value and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,256}", value):
        raise ValueError(_("empty, or 16 to 256 characters: Latin letters, digits and ._~+/=-"))


def check_email_address(value: str) -> None:
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
        raise ValueError(_("must be an e-mail address such as billing@example.com"))


def check_smtp_url(value: str) -> None:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("smtp", "smtp+starttls", "smtps") or not (
        parts.hostname
    ):
        raise ValueError(_("must be smtp://host:25, smtp+starttls://user:password@host:587 "
                           "or smtps://user:password@host:465"))


def check_operator_codes(value: str) -> None:
    for item in value.split():
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", item):
            raise ValueError(_("%(code)r is not a payment operator code") % {"code": item})


def _int_range(low: int, high: int) -> Callable[[str], None]:
    def check(value: str) -> None:
        if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
            raise ValueError(_("must be a whole number from %(low)s to %(high)s")
                             % {"low": low, "high": high})

    return check


def check_prefix(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{0,16}", value):
        raise ValueError(_("up to 16 Latin letters, digits, - or _"))


def check_money(value: str) -> None:
    if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", value):
        raise ValueError(
            _("must be an amount such as 300 or 300.00 (not negative, 2 decimals)"))


def check_clock(value: str) -> None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(_("must be a time of day HH:MM, such as 03:00"))


def check_quiet_hours(value: str) -> None:
    if not value:
        return
    parts = value.split("-")
    try:
        if len(parts) != 2:
            raise ValueError
        for part in parts:
            check_clock(part.strip())
    except ValueError:
        raise ValueError(_("must be HH:MM-HH:MM, such as 22:00-09:00, or empty")) from None
    if parts[0].strip() == parts[1].strip():
        raise ValueError(_("the start and the end are the same time"))


QUIET_CHANNELS = ("email", "sms")
SMS_PROVIDERS = ("smsru", "smsc", "http")


def check_sms_provider(value: str) -> None:
    if value and value not in SMS_PROVIDERS:
        raise ValueError(_("must be empty (no SMS) or one of %(names)s, not %(value)r")
                         % {"names": ", ".join(SMS_PROVIDERS), "value": value})


def check_http_url(value: str) -> None:
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(_("must be an http:// or https:// address, or empty"))


def check_quiet_channels(value: str) -> None:
    for item in value.split():
        if item not in QUIET_CHANNELS:
            raise ValueError(_("%(item)r is not a channel that can wait (%(channels)s)")
                             % {"item": item, "channels": ", ".join(QUIET_CHANNELS)})


YES_NO = ("yes", "no")
CHARGE_POLICIES = ("always", "not_negative", "not_below_fee")


@dataclass(frozen=True)
class KeySpec:
    default: str
    validator: Callable[[str], None] | None
    doc: str


ACQUIRER_FIELDS = ("order", "amount", "contract", "return")


def check_acquirer_url(value: str) -> None:
    """Empty, or an http(s) URL whose {placeholders} are only ACQUIRER_FIELDS."""
    import string

    if not value:
        return
    if not re.match(r"https?://[^\s/]+", value) or re.search(r"\s", value):
        raise ValueError(_("must be an http:// or https:// URL without spaces"))
    try:
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(value) if name
                 is not None]
    except ValueError as exc:
        # exc: Python's own words about the braces ("Single '}' encountered ...").
        raise ValueError(_("has a broken placeholder (%(error)s); write {{ and }} for braces")
                         % {"error": exc}) from None
    unknown = sorted({name for name in names if name not in ACQUIRER_FIELDS})
    if unknown:
        raise ValueError(_("unknown placeholder {%(name)s}; known: %(known)s") % {
            "name": unknown[0], "known": ", ".join(f"{{{name}}}" for name in ACQUIRER_FIELDS)})
    if "order" not in names:
        raise ValueError(_("must carry the order number: {order}"))
