"""The keys of ``cfg/config`` that asr-billing knows: defaults, validators and the text
that docs/configuration.md expands on (a test keeps the two in step). Unknown keys are
kept and ignored. Validators raise ValueError with a short reason; config.py adds the file
and line. This module must not import Django.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.config_checks import (  # noqa: F401 - re-exported
    CHARGE_POLICIES,
    CONTEXT_RE,
    LANGUAGES,
    LOG_LEVELS,
    YES_NO,
    KeySpec,
    _int_range,
    _one_of,
    check_acquirer_url,
    check_api_key,
    check_clock,
    check_contexts,
    check_currency,
    check_db_url,
    check_email_address,
    check_http_url,
    check_money,
    check_networks,
    check_operator_codes,
    check_prefix,
    check_quiet_channels,
    check_quiet_hours,
    check_sms_provider,
    check_smtp_url,
    check_time_zone,
    parse_networks,
)
from asr_billing.core.config_schema_radius import RADIUS_SCHEMA

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
    ("network", "api.cabinet_servers"): KeySpec(
        "127.0.0.1 ::1",
        check_networks,
        "Cabinet web sites and integration servers that log subscribers in for them: the "
        "subscriber's address they pass as src_ip is believed, and their own address is "
        "not throttled as one client.",
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
    ("cabinet", "web.auto_login"): KeySpec(
        "yes", _one_of(YES_NO),
        "The /cabinet/ pages log a visitor in by their address (the enabled login holding "
        "it, as web_cabinet.try_auto_login) when they have no session: yes or no.",
    ),
    ("cabinet", "login.max_failures"): KeySpec(
        "5", _int_range(0, 1000),
        "Failed logins of one login name from one client address before that pair is "
        "refused for login.lockout_minutes; 0: no limit.",
    ),
    ("cabinet", "login.ip_max_failures"): KeySpec(
        "30", _int_range(0, 100000),
        "Failed logins from one client address, whatever the names, before it is refused for "
        "login.lockout_minutes; 0: no limit.",
    ),
    ("cabinet", "login.lockout_minutes"): KeySpec(
        "15", _int_range(1, 1440),
        "How long a full counter refuses; a counter without failures for this long restarts.",
    ),
    ("cabinet", "login.delay_after"): KeySpec(
        "10", _int_range(0, 100000),
        "Failed logins of one login name from anywhere before each further failure delays "
        "that name's next attempt (1 s, doubling); 0: no delay.",
    ),
    ("cabinet", "login.max_delay_seconds"): KeySpec(
        "60", _int_range(1, 3600), "The longest such delay, in seconds."
    ),
    ("cabinet", "reset.token_minutes"): KeySpec(
        "60", _int_range(5, 10080), "How long an e-mailed password reset code stays valid."
    ),
    ("cabinet", "reset.max_requests"): KeySpec(
        "3", _int_range(0, 1000),
        "Password reset requests for one login name within reset.window_minutes; 0: no "
        "limit.",
    ),
    ("cabinet", "reset.ip_max_requests"): KeySpec(
        "10", _int_range(0, 100000),
        "Password reset requests from one client address within reset.window_minutes; 0: no "
        "limit.",
    ),
    ("cabinet", "reset.window_minutes"): KeySpec(
        "60", _int_range(1, 10080),
        "The window of the reset request limits; a full one refuses for this long.",
    ),
    ("cabinet", "tariff.change_from"): KeySpec(
        "period", _one_of(("period", "tomorrow")),
        "When a tariff the subscriber chooses in the cabinet takes effect: period (the start "
        "of the current tariff's next period: the 1st of next month for a monthly fee, "
        "tomorrow for a daily one) or tomorrow (unused days of a monthly fee refunded).",
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
    ("cabinet", "payment.acquirer_url"): KeySpec(
        "", check_acquirer_url,
        "Where the cabinet's Pay online sends the subscriber: the acquirer's payment page, "
        "with {order}, {amount}, {contract} and {return} filled in. Empty: the cabinet does "
        "not offer paying online (unless payment.test_acquirer is yes).",
    ),
    ("cabinet", "payment.test_acquirer"): KeySpec(
        "no", _one_of(YES_NO),
        "yes: Pay online completes on the billing's own test acquirer page, clearly marked, "
        "which credits the payment as a bank's confirmation would (the demo). Never yes on "
        "a billing that takes real money.",
    ),
    ("app", "django.loglevel"): KeySpec(
        "error", _one_of(LOG_LEVELS), "error: only errors are logged; info: every API call."
    ),
    ("app", "log.format"): KeySpec(
        "plain", _one_of(("plain", "json")),
        "plain: one text line per record; json: one JSON object per line (time, level, "
        "logger, message, exception), for log shippers. Needs a restart.",
    ),
    ("app", "metrics.allowed_ips"): KeySpec(
        "127.0.0.1 ::1", check_networks,
        "Who may read /metrics (Prometheus): IPs and CIDR networks; X-Forwarded-For only "
        "from network['api.trusted_proxies'].",
    ),
    ("app", "db.url"): KeySpec(
        "", check_db_url, "Empty: SQLite in var/. Else postgresql://user:password@host:port/db."
    ),
    ("app", "db.replica_url"): KeySpec(
        "", check_db_url,
        "Empty: no read replica. Else postgresql://... of a streaming replica of db.url: the "
        "collector lists and the REST list endpoints are read there (docs/scaling.md). "
        "Needs PostgreSQL in db.url and a restart.",
    ),
    ("app", "db.replica_max_lag"): KeySpec(
        "10", _int_range(0, 86400),
        "Seconds the replica may be behind the primary; further behind (or unreachable), "
        "the lists are read from the primary.",
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

SCHEMA[("api", "v1.idempotency_hours")] = KeySpec(
    "24", _int_range(1, 720),
    "Hours /api/v1/ keeps the answer to a POST sent with an Idempotency-Key for its retries.",
)

# notify['…']: messages to subscribers (notify/, docs/notifications.md).
SCHEMA[("notify", "quiet_hours")] = KeySpec(
    "", check_quiet_hours,
    "Hours in app['time_zone'] when quiet.channels wait, HH:MM-HH:MM (22:00-09:00 spans "
    "midnight); empty: none.",
)
SCHEMA[("notify", "quiet.channels")] = KeySpec(
    "email sms", check_quiet_channels,
    "Channels held back during quiet_hours (space-separated: email, sms); the cabinet feed "
    "never waits.",
)
SCHEMA[("notify", "sms.provider")] = KeySpec(
    "", check_sms_provider,
    "SMS gateway: smsru (SMS.ru), smsc (SMSC.ru), http (a JSON POST to sms.url); empty: no "
    "SMS.",
)
SCHEMA[("notify", "sms.url")] = KeySpec(
    "", check_http_url,
    "The gateway's address (smsru and smsc: their public one when empty; http: required).",
)
SCHEMA[("notify", "sms.login")] = KeySpec("", None, "Login at the gateway (smsc).")
SCHEMA[("notify", "sms.password")] = KeySpec(
    "", None, "smsru: the api_id; smsc: the password; http: a Bearer token (optional).",
)
SCHEMA[("notify", "sms.sender")] = KeySpec(
    "", None, "Sender name registered at the gateway; empty: the gateway's default.",
)

SCHEMA[("notify", "runs_out.days")] = KeySpec(
    "3", _int_range(0, 30),
    "Tell a subscriber when the money lasts this many days or fewer (once per predicted "
    "day); 0: never.",
)
SCHEMA[("notify", "daily.time")] = KeySpec(
    "12:00", check_clock,
    "Local time from which the day's messages are made (money runs out, voluntary block "
    "ends, tariff change tomorrow).",
)

# radius['…'] lives in its own module; merged here so every reader sees one SCHEMA.
SCHEMA.update(RADIUS_SCHEMA)

PSW_KEY_RE = re.compile(r"api\.([a-z][a-z0-9_]*)\.psw")


# --- payments: gateway instances (docs/payments.md), payments['<type>.<name>.<setting>'] ---

GATEWAY_TYPES = ("osmp", "sberbank", "webhook")
ACCOUNT_KEYS = ("contract", "login", "ip", "id")
# A name is a URL path segment (/pay/<type>/<name>/) and cannot hold the key's dots.
GATEWAY_NAME = r"[a-z0-9][a-z0-9_-]{0,31}"
PAYMENT_KEY_RE = re.compile(r"(?P<type>[^.]*)\.(?P<name>[^.]*)\.(?P<setting>.+)")


def check_operator_code(value: str) -> None:
    if value and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
        raise ValueError(_("%(code)r is not a payment operator code") % {"code": value})


def check_secret(value: str) -> None:
    if value and not re.fullmatch(r"[\x21-\x7e]{16,256}", value):
        raise ValueError(_("empty, or 16 to 256 printable ASCII characters without spaces"))


def check_auth_text(value: str) -> None:
    if not re.fullmatch(r"[\x21-\x7e]{0,128}", value) or ":" in value:
        raise ValueError(_("up to 128 printable ASCII characters, no spaces and no ':'"))


# Daily registries of an instance (finance/reconcile*.py, docs/payments.md "Reconciliation").
REGISTRY_FORMATS = ("sberbank", "csv")
REGISTRY_ENCODINGS = ("auto", "utf-8", "cp1251")
REGISTRY_COLUMNS = ("txn_id", "account", "amount", "date", "time", "fee")
REGISTRY_REQUIRED_COLUMNS = ("txn_id", "account", "amount", "date")
MAX_REGISTRY_COLUMN = 200
_STRPTIME_DIRECTIVE = re.compile(r"%[dmYyHMS%]")


def registry_delimiter(value: str) -> str:
    """The delimiter character a registry.delimiter value stands for (``tab``: a tab)."""
    if value == "tab":
        return "\t"
    if len(value) != 1 or value == '"' or value.isalnum() or not value.isprintable():
        raise ValueError(_("one character other than a letter, a digit or '\"', or tab; "
                           "not %(value)r") % {"value": value})
    return value


def check_registry_delimiter(value: str) -> None:
    registry_delimiter(value)


def check_registry_column(value: str) -> None:
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_REGISTRY_COLUMN:
        raise ValueError(_("a column number from 1 to %(max)s, or 0 for none; not %(value)r")
                         % {"max": MAX_REGISTRY_COLUMN, "value": value})


def check_registry_date_format(value: str) -> None:
    rest = _STRPTIME_DIRECTIVE.sub("", value)
    if "%" in rest or "%d" not in value or "%m" not in value or not (
        "%Y" in value or "%y" in value
    ):
        raise ValueError(_("a date format with %%d, %%m and %%Y (or %%y), and no directives "
                           "but %%d %%m %%Y %%y %%H %%M %%S; not %(value)r") % {"value": value})


def check_registry_time_format(value: str) -> None:
    if ("%" in _STRPTIME_DIRECTIVE.sub("", value) or "%H" not in value or "%M" not in value
            or re.search(r"%[dmYy]", value)):
        raise ValueError(_("a time format with %%H and %%M, and no directives but "
                           "%%H %%M %%S; not %(value)r") % {"value": value})


@dataclass(frozen=True)
class GatewaySetting(KeySpec):
    """A setting of one gateway instance; ``types``: the gateway types that have it."""

    types: tuple[str, ...] = GATEWAY_TYPES


GATEWAY_SETTINGS: dict[str, GatewaySetting] = {
    "enabled": GatewaySetting(
        "no", _one_of(YES_NO), "yes: the gateway answers at /pay/<type>/<name>/; no: 404."
    ),
    "operator": GatewaySetting(
        "", check_operator_code,
        "Code of the payment operator its payments are posted under (required when enabled).",
    ),
    "allowed_ips": GatewaySetting(
        "", check_networks,
        "IPs and CIDR networks the payment system calls from (required when enabled).",
    ),
    "account": GatewaySetting(
        "contract", _one_of(ACCOUNT_KEYS),
        "What the payer's account field holds: contract, login, ip or id (subscriber id).",
    ),
    "min_sum": GatewaySetting("1.00", check_money, "Smallest payment accepted."),
    "max_sum": GatewaySetting("100000.00", check_money, "Largest payment accepted."),
    "allow_negative": GatewaySetting(
        "yes", _one_of(YES_NO), "no: subscribers with a balance below zero cannot pay here."
    ),
    "allow_blocked": GatewaySetting(
        "yes", _one_of(YES_NO),
        "no: subscribers blocked by the administrator cannot pay here.",
    ),
    "cancel": GatewaySetting(
        "no", _one_of(YES_NO), "yes: the payment system may cancel its payments (reversal)."
    ),
    "auth.user": GatewaySetting(
        "", check_auth_text, "HTTP basic auth user the payment system must send; empty: none.",
        types=("osmp", "sberbank"),
    ),
    "auth.password": GatewaySetting(
        "", check_auth_text, "Its password.", types=("osmp", "sberbank"),
    ),
    "dialect": GatewaySetting(
        "auto", _one_of(("auto", "protocol2", "sberonline")),
        "auto: requests with ACTION= get SberOnline's answers (CODE), others protocol 2's "
        "(result); protocol2 or sberonline: always that one.",
        types=("sberbank",),
    ),
    "secret": GatewaySetting(
        "", check_secret, "HMAC-SHA256 key of the signature (required when enabled).",
        types=("webhook",),
    ),
    "window_seconds": GatewaySetting(
        "300", _int_range(10, 86400),
        "How far (seconds) a request's signed timestamp may be from the server's clock.",
        types=("webhook",),
    ),
    "registry.format": GatewaySetting(
        "auto", _one_of(("auto", *REGISTRY_FORMATS)),
        "Layout of its daily registries: sberbank or csv; auto: sberbank for sberbank "
        "instances, csv for the others.",
    ),
    "registry.encoding": GatewaySetting(
        "auto", _one_of(REGISTRY_ENCODINGS),
        "auto: UTF-8 when the file is (or starts with a BOM), else cp1251.",
    ),
    "registry.delimiter": GatewaySetting(
        ";", check_registry_delimiter, "csv: the field separator; tab for a tab."
    ),
    "registry.skip_rows": GatewaySetting(
        "0", _int_range(0, 100), "csv: header lines at the top that are not payments."
    ),
    **{
        f"registry.column.{name}": GatewaySetting(
            default, check_registry_column, f"csv: the column (1 = first) of the {what}."
        )
        for name, default, what in (
            ("txn_id", "1", "transaction id"),
            ("account", "2", "account"),
            ("amount", "3", "amount"),
            ("date", "4", "date"),
            ("time", "0", "time, when not in the date column (0: none)"),
            ("fee", "0", "fee the payment system kept (0: none)"),
        )
    },
    "registry.date_format": GatewaySetting(
        "%d.%m.%Y", check_registry_date_format,
        "csv: the date column's format (strptime: %d %m %Y %y, and %H %M %S for a time).",
    ),
    "registry.time_format": GatewaySetting(
        "%H:%M:%S", check_registry_time_format, "csv: the time column's format."
    ),
}


def payment_key(key: str) -> tuple[str, str, str]:
    """Split payments['<type>.<name>.<setting>'] into its parts; ValueError names what is
    wrong (a typo in this section is refused, not ignored: a gateway would silently keep
    its default)."""
    match = PAYMENT_KEY_RE.fullmatch(key)
    if match is None:
        raise ValueError(_("keys of this section are <type>.<name>.<setting>, "
                           "e.g. osmp.terminals.enabled"))
    kind, name, setting = match["type"], match["name"], match["setting"]
    if kind not in GATEWAY_TYPES:
        raise ValueError(_("unknown gateway type %(type)r; one of %(types)s")
                         % {"type": kind, "types": ", ".join(GATEWAY_TYPES)})
    if not re.fullmatch(GATEWAY_NAME, name):
        raise ValueError(_("%(name)r is not a gateway name (a-z, 0-9, - and _, up to 32)")
                         % {"name": name})
    spec = GATEWAY_SETTINGS.get(setting)
    if spec is None or kind not in spec.types:
        # The registry's dozen settings are listed for a typo among them, else summed up.
        registry = setting.startswith("registry.")
        known = [k for k, v in GATEWAY_SETTINGS.items()
                 if kind in v.types and k.startswith("registry.") == registry]
        if not registry:
            known.append("registry.*")
        raise ValueError(_("%(type)s gateways have no setting %(setting)r; they have %(known)s")
                         % {"type": kind, "setting": setting, "known": ", ".join(known)})
    return kind, name, setting


def _payment_validator(key: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        _kind, _name, setting = payment_key(key)
        GATEWAY_SETTINGS[setting].validator(value)

    return check


def payment_settings(values: dict[tuple[str, str], str]) -> dict[tuple[str, str], dict]:
    """Every gateway instance named in the payments section: (type, name) -> {setting:
    value}, defaults filled in. Keys that do not parse are left out (validation refuses
    them with their line)."""
    found: dict[tuple[str, str], dict] = {}
    for (section, key), value in values.items():
        if section != "payments":
            continue
        try:
            kind, name, setting = payment_key(key)
        except ValueError:
            continue
        found.setdefault((kind, name), {})[setting] = value
    return {
        instance: {
            setting: given.get(setting, spec.default)
            for setting, spec in GATEWAY_SETTINGS.items()
            if instance[0] in spec.types
        }
        for instance, given in found.items()
    }


def payment_problems(values: dict[tuple[str, str], str]) -> list[tuple[str, str, str]]:
    """Rules between the settings of one instance, as (section, key, message) for the key
    whose line an error should name."""
    problems = []
    for (kind, name), settings in payment_settings(values).items():
        prefix = f"{kind}.{name}."
        try:
            low, high = Decimal(settings["min_sum"]), Decimal(settings["max_sum"])
        except ArithmeticError:  # a bad value: its own validator reports it
            low = high = None
        if low is not None and low > high:
            problems.append(("payments", prefix + "max_sum", _("is below min_sum")))
        if settings.get("auth.user", "") and not settings.get("auth.password", ""):
            problems.append(("payments", prefix + "auth.user", _("needs auth.password as well")))
        problems += _registry_problems(kind, prefix, settings)
        if settings["enabled"] != "yes":
            continue
        required = ["operator", "allowed_ips"] + (["secret"] if kind == "webhook" else [])
        for setting in required:
            if not settings[setting].strip():
                problems.append((
                    "payments", prefix + "enabled",
                    _("an enabled gateway needs payments['%(key)s']")
                    % {"key": prefix + setting},
                ))
    return problems


def registry_format(kind: str, value: str) -> str:
    """The layout an instance's registries are read in (registry.format ``auto``: by type)."""
    if value != "auto":
        return value
    return "sberbank" if kind == "sberbank" else "csv"


def _registry_problems(kind: str, prefix: str, settings: dict) -> list[tuple[str, str, str]]:
    """A CSV registry needs its transaction id, account, amount and date columns."""
    if registry_format(kind, settings["registry.format"]) != "csv":
        return []
    return [
        ("payments", f"{prefix}registry.column.{name}", _("a csv registry needs this column"))
        for name in REGISTRY_REQUIRED_COLUMNS
        if settings[f"registry.column.{name}"] == "0"
    ]


def validator_for(section: str, key: str) -> Callable[[str], None] | None:
    if section == "payments":
        return _payment_validator(key)
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
