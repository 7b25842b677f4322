"""The keys of ``cfg/config`` that asr-billing knows: defaults, validators and the text
that docs/configuration.md expands on (a test keeps the two in step). Unknown keys are
kept and ignored. Validators raise ValueError with a short reason; config.py adds the file
and line. This module must not import Django.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LANGUAGES = ("ru", "en")
CONTEXT_RE = re.compile(r"[a-z][a-z0-9_]*")


def _one_of(choices: tuple[str, ...]) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {value!r}")

    return check


def check_networks(value: str) -> None:
    for item in value.split():
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in value.split()]


def check_contexts(value: str) -> None:
    for item in value.split():
        if not CONTEXT_RE.fullmatch(item):
            raise ValueError(f"{item!r} is not a context name (lowercase letters, digits, _)")


def check_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None


def check_db_url(value: str) -> None:
    message = "must be empty (SQLite in var/) or postgresql://user:pass@host:port/db"
    if not value:
        return
    if not re.match(r"^(postgres|postgresql)://", value):
        raise ValueError(message)
    try:
        urlsplit(value).port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(message) from None


def check_currency(value: str) -> None:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("must be an ISO 4217 code such as RUB")


def check_api_key(value: str) -> None:
    if value and not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,256}", value):
        raise ValueError("empty, or 16 to 256 characters: Latin letters, digits and ._~+/=-")


def check_email_address(value: str) -> None:
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
        raise ValueError("must be an e-mail address such as billing@example.com")


def check_smtp_url(value: str) -> None:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("smtp", "smtp+starttls", "smtps") or not (
        parts.hostname
    ):
        raise ValueError("must be smtp://host:25, smtp+starttls://user:password@host:587 "
                         "or smtps://user:password@host:465")


def check_operator_codes(value: str) -> None:
    for item in value.split():
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", item):
            raise ValueError(f"{item!r} is not a payment operator code")


def _int_range(low: int, high: int) -> Callable[[str], None]:
    def check(value: str) -> None:
        if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")

    return check


def check_prefix(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{0,16}", value):
        raise ValueError("up to 16 Latin letters, digits, - or _")


def check_money(value: str) -> None:
    if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", value):
        raise ValueError("must be an amount such as 300 or 300.00 (not negative, 2 decimals)")


def check_clock(value: str) -> None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError("must be a time of day HH:MM, such as 03:00")


YES_NO = ("yes", "no")
CHARGE_POLICIES = ("always", "not_negative", "not_below_fee")


@dataclass(frozen=True)
class KeySpec:
    default: str
    validator: Callable[[str], None] | None
    doc: str


SCHEMA: dict[tuple[str, str], KeySpec] = {
    ("network", "api.context"): KeySpec(
        "web cabinet collector api_1c base webcash asr_fiscal",
        check_contexts,
        "Space-separated system API contexts that are enabled.",
    ),
    ("network", "api.allowed_ips"): KeySpec(
        "127.0.0.1 ::1",
        check_networks,
        "Space-separated IPs and CIDR networks (IPv4 and IPv6) allowed to call the APIs.",
    ),
    ("network", "api.trusted_proxies"): KeySpec(
        "",
        check_networks,
        "Reverse proxies whose X-Forwarded-For is trusted for the allow-list check.",
    ),
    ("network", "api.rest.key"): KeySpec(
        "",
        check_api_key,
        "REST API v2: when set, requests must carry Authorization: Bearer <this key>.",
    ),
    ("network", "api.rest.max_results"): KeySpec(
        "1000",
        _int_range(1, 1000000),
        "REST API v2: most objects one answer may list (use limit/offset to page).",
    ),
    # The deprecated old REST API (docs/system-api.md, "The old REST API"): off, because
    # its login carries an operator's password in a URL.
    ("network", "api.legacy_rest"): KeySpec(
        "no", _one_of(YES_NO),
        "yes: serve Carbon's deprecated old REST API (GET /admin/?username=..&password=.."
        "&api=Y, then /rest_api/?hash_key=..). It puts an operator's password in a URL.",
    ),
    ("network", "api.legacy_rest.key_ttl"): KeySpec(
        "60", _int_range(1, 10080),
        "Minutes an old REST API hash_key stays valid after the login that issued it.",
    ),
    # Subscriber cabinet (docs/system-api.md, web_cabinet).
    ("cabinet", "session.idle_minutes"): KeySpec(
        "30", _int_range(1, 10080), "A cabinet session ends after this many idle minutes."
    ),
    ("cabinet", "login.max_failures"): KeySpec(
        "5", _int_range(0, 1000),
        "Failed cabinet logins of one login name within login.lockout_minutes before it is "
        "locked for the rest of that time; 0: no limit.",
    ),
    ("cabinet", "login.ip_max_failures"): KeySpec(
        "30", _int_range(0, 100000),
        "The same per source IP (the subscriber's IP when the cabinet passes src_ip, else the "
        "caller's); 0: no limit.",
    ),
    ("cabinet", "login.lockout_minutes"): KeySpec(
        "15", _int_range(1, 1440), "The window (minutes) in which failed logins are counted."
    ),
    ("cabinet", "reset.token_minutes"): KeySpec(
        "60", _int_range(5, 10080), "How long an e-mailed password reset code stays valid."
    ),
    ("cabinet", "email.backend"): KeySpec(
        "file", _one_of(("file", "console", "smtp")),
        "How cabinet e-mails leave: file (one file per message in var/mail/), console "
        "(standard output) or smtp (cabinet['email.smtp_url']).",
    ),
    ("cabinet", "email.from"): KeySpec(
        "billing@localhost", check_email_address, "Sender address of cabinet e-mails."
    ),
    ("cabinet", "email.smtp_url"): KeySpec(
        "smtp://localhost:25", check_smtp_url,
        "SMTP server: smtp://host:25, smtp+starttls://user:password@host:587 or "
        "smtps://user:password@host:465 (URL-encode special characters).",
    ),
    ("cabinet", "payment.operators"): KeySpec(
        "SBERBANK_ACQ", check_operator_codes,
        "Payment operators (codes, space-separated) through which the cabinet may start an "
        "online payment (web_cabinet.add_payment_operation).",
    ),
    ("app", "django.loglevel"): KeySpec(
        "error", _one_of(LOG_LEVELS), "error: only errors are logged; info: every API call."
    ),
    ("app", "db.url"): KeySpec(
        "", check_db_url, "Empty: SQLite in var/. Else postgresql://user:password@host:port/db."
    ),
    ("app", "time_zone"): KeySpec(
        "Europe/Moscow", check_time_zone, "Local time zone: billing days and months follow it."
    ),
    ("app", "language"): KeySpec("ru", _one_of(LANGUAGES), "Interface language: ru or en."),
    ("app", "currency"): KeySpec("RUB", check_currency, "ISO 4217 currency code."),
    ("app", "contract.prefix"): KeySpec(
        "BILL", check_prefix, "Prefix of generated contract numbers (BILL0000003)."
    ),
    ("app", "contract.digits"): KeySpec(
        "7", _int_range(1, 18), "Digits after the prefix, zero-padded."
    ),
    # Billing engine (docs/billing.md). Tariffs may override the promised payment keys.
    ("billing", "run.time"): KeySpec(
        "03:00", check_clock, "Local time at which `asr-billing scheduler` runs the daily charging."
    ),
    ("billing", "expire.minutes"): KeySpec(
        "5",
        _int_range(1, 1440),
        "How often (minutes) the scheduler ends promised payments and voluntary blocks and "
        "applies scheduled tariff changes.",
    ),
    ("billing", "catchup.days"): KeySpec(
        "31",
        _int_range(1, 366),
        "How many days back a run catches up missed days (and one-time fees) at most.",
    ),
    ("billing", "charge.when_negative"): KeySpec(
        "always",
        _one_of(CHARGE_POLICIES),
        "Default for tariffs: always; not_negative: no fee while balance + credit + promised "
        "payment is below zero; not_below_fee: no fee when it is below the fee.",
    ),
    ("billing", "charge.admin_blocked"): KeySpec(
        "yes", _one_of(YES_NO), "yes: fees are charged while blocked by the administrator; no: not."
    ),
    ("billing", "promised.amount"): KeySpec(
        "300.00", check_money, "Promised payment amount; 0 turns promised payments off."
    ),
    ("billing", "promised.days"): KeySpec(
        "3", _int_range(1, 365), "Days a promised payment lasts before it ends by itself."
    ),
    ("billing", "promised.max_per_month"): KeySpec(
        "1", _int_range(0, 31), "Promised payments a subscriber may take per month; 0: unlimited."
    ),
    ("billing", "promised.only_when_cut_off"): KeySpec(
        "yes", _one_of(YES_NO), "yes: only a subscriber cut off by balance may take one."
    ),
    ("billing", "vblock.min_days"): KeySpec(
        "1", _int_range(1, 366), "Shortest voluntary block, days."
    ),
    ("billing", "vblock.max_days"): KeySpec(
        "90", _int_range(1, 3660), "Longest voluntary block, days."
    ),
    ("billing", "vblock.max_start_days"): KeySpec(
        "60", _int_range(0, 3660),
        "How many days ahead a voluntary block may start at the latest; 0: only today.",
    ),
    ("billing", "vblock.max_per_month"): KeySpec(
        "1", _int_range(0, 31), "Voluntary blocks a subscriber may start per month; 0: unlimited."
    ),
    ("billing", "vblock.cost"): KeySpec(
        "0.00", check_money, "One-time cost of taking a voluntary block; 0: free."
    ),
}

PSW_KEY_RE = re.compile(r"api\.([a-z][a-z0-9_]*)\.psw")


def validator_for(section: str, key: str) -> Callable[[str], None] | None:
    spec = SCHEMA.get((section, key))
    return spec.validator if spec is not None else None


def networks_contain(networks, address: str) -> bool:
    """True when ``address`` (an IP string, possibly v4-mapped v6) is in any network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
