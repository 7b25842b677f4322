"""Reader and writer for the Carbon-style ``cfg/config`` file.

The file looks like a bash script of associative arrays::

    # comment
    declare -A network
    network['api.context']='web cabinet collector'
    network['api.context.widget']='inputbox "Contexts" "Space-separated"'
    app['time_zone']='Europe/Moscow'   # trailing comments are allowed

We never source, exec or eval it. Values are parsed with the quoting rules bash
applies to such lines: single quotes take everything literally, double quotes allow
the escapes ``\\" \\\\ \\$ \\``` and adjacent pieces concatenate (``'it'\\''s'``).
Anything that bash would expand (``$VAR``, backticks) is refused, because reading it
literally would silently differ from what the original Carbon tools did.

Keys ending in ``.widget`` are UI hints of Carbon's settings screen: kept on rewrite,
never interpreted. This module must not import Django.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import tempfile
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SECTION_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DECLARE_RE = re.compile(r"^\s*declare\s+-[gA]+(\s+[A-Za-z_][A-Za-z0-9_]*)+\s*(#.*)?$")
# section['key']= or section["key"]= ; the key itself may not contain quotes.
ASSIGN_RE = re.compile(
    r"""^(?P<indent>\s*)(?P<section>[A-Za-z_][A-Za-z0-9_]*)\[(?P<q>['"])(?P<key>[^'"\n]*)(?P=q)\]="""
)
BARE_CHARS = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,:/@%+=-~^!?[]{}"
)


class ConfigError(ValueError):
    """A line of the config file cannot be used. ``str()`` names file and line."""

    def __init__(self, path: str | Path | None, lineno: int | None, message: str):
        self.path = str(path) if path is not None else "<config>"
        self.lineno = lineno
        self.message = message
        where = f"{self.path}:{lineno}" if lineno else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class Line:
    """One physical line. Assignments remember where their value sits, to splice in a new one."""

    raw: str
    section: str | None = None
    key: str | None = None
    value: str | None = None
    value_start: int = 0
    value_end: int = 0


def _parse_value(text: str, start: int) -> tuple[str, int]:
    """Parse a bash word starting at ``text[start]``; return (value, index after the word)."""
    out: list[str] = []
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        # bash expands an unquoted ~ at the start of an assignment's value or after a ':'.
        if ch == "~" and (i == start or text[i - 1] == ":"):
            raise ValueError("'~' would be expanded by bash; quote the value with '")
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ValueError("unterminated single quote")
            out.append(text[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unterminated double quote")
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and text[i + 1] in '"\\$`':
                    out.append(text[i + 1])
                    i += 2
                    continue
                if c in "$`":
                    raise ValueError("shell expansion ($ or `) is not supported; quote it with '")
                out.append(c)
                i += 1
        elif ch == "\\":
            if i + 1 >= n:
                raise ValueError("dangling backslash")
            out.append(text[i + 1])
            i += 2
        elif ch in " \t":
            break
        elif ch in "$`":
            raise ValueError("shell expansion ($ or `) is not supported; quote it with '")
        elif ch in BARE_CHARS or ord(ch) > 127:
            out.append(ch)
            i += 1
        else:
            raise ValueError(f"unexpected character {ch!r} in value; quote the value with '")
    return "".join(out), i


def parse_line(raw: str) -> Line:
    """Parse one line (without its newline). Raises ValueError with a short reason.

    A carriage return ending the line (a file saved on Windows) is kept in ``raw`` so the
    file is written back as it was, but it is not part of the value.
    """
    body = raw[:-1] if raw.endswith("\r") else raw
    stripped = body.strip()
    if not stripped or stripped.startswith("#") or DECLARE_RE.match(body):
        return Line(raw)
    match = ASSIGN_RE.match(body)
    if not match:
        raise ValueError("expected section['key']='value', a # comment or a blank line")
    start = match.end()
    value, end = _parse_value(body, start)
    rest = body[end:].strip()
    if rest and not rest.startswith("#"):
        raise ValueError(f"unexpected text after the value: {rest[:40]!r}")
    return Line(raw, match["section"], match["key"], value, start, end)


def quote(value: str) -> str:
    """Quote a value the way Carbon writes it: single quotes, ' as '\\''."""
    if "\n" in value or "\r" in value:
        raise ValueError("values cannot span lines")
    return "'" + value.replace("'", "'\\''") + "'"


@dataclass
class ConfigFile:
    lines: list[Line] = field(default_factory=list)
    path: str | None = None
    # Whether the text ended with a newline; render() reproduces the file byte for byte.
    final_newline: bool = True

    @classmethod
    def parse(cls, text: str, path: str | Path | None = None) -> ConfigFile:
        # Split on "\n" only: str.splitlines() also splits on \x0c, \x85, \u2028 and
        # others, which bash (and so the file format) treats as ordinary characters.
        raws = text.split("\n")
        final_newline = text == "" or text.endswith("\n")
        if raws[-1] == "":
            raws.pop()
        lines = []
        for lineno, raw in enumerate(raws, start=1):
            try:
                lines.append(parse_line(raw))
            except ValueError as exc:
                raise ConfigError(path, lineno, str(exc)) from None
        cfg = cls(lines, str(path) if path is not None else None, final_newline)
        cfg.validate()
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> ConfigFile:
        # Bytes, not read_text(): universal newlines would turn \r\n into \n and a
        # rewrite of one value would silently change every line of the file.
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ConfigError(path, None, "file not found") from None
        return cls.parse_bytes(data, path)

    @classmethod
    def parse_bytes(cls, data: bytes, path: str | Path | None = None) -> ConfigFile:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(path, None, f"not UTF-8 text ({exc.reason})") from None
        return cls.parse(text, path)

    def values(self) -> dict[tuple[str, str], str]:
        """All settings, later lines winning like in bash; ``.widget`` hints left out."""
        result: dict[tuple[str, str], str] = {}
        for line in self.lines:
            if line.section is not None and not line.key.endswith(".widget"):
                result[(line.section, line.key)] = line.value
        return result

    def _lineno_of(self, section: str, key: str) -> int | None:
        found = None
        for lineno, line in enumerate(self.lines, start=1):
            if line.section == section and line.key == key:
                found = lineno
        return found

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        value = self.values().get((section, key))
        if value is None:
            spec = SCHEMA.get((section, key))
            return spec.default if spec is not None and default is None else default
        return value

    def validate(self) -> None:
        """Check every known key's value; an error names the line it came from."""
        for (section, key), value in self.values().items():
            validator = validator_for(section, key)
            if validator is None:
                continue
            try:
                validator(value)
            except ValueError as exc:
                raise ConfigError(
                    self.path, self._lineno_of(section, key), f"{section}['{key}']: {exc}"
                ) from None

    def set(self, section: str, key: str, value: str) -> None:
        """Set one value, keeping every other line, comment and the order intact.

        The last assignment of the key is rewritten in place (bash would use that one);
        a new key goes after the last line of its section, or at the end of the file.
        """
        if not SECTION_RE.fullmatch(section):
            raise ConfigError(self.path, None, f"bad section name {section!r}")
        if not key or any(c in key for c in "'\"\n\r"):
            raise ConfigError(self.path, None, f"bad key name {key!r}")
        target = None
        last_in_section = None
        for index, line in enumerate(self.lines):
            if line.section == section:
                last_in_section = index
                if line.key == key:
                    target = index
        position = len(self.lines) if last_in_section is None else last_in_section + 1
        # Errors name the line that would change (or be added), like errors when reading.
        lineno = (target if target is not None else position) + 1
        validator = validator_for(section, key)
        if validator is not None:
            try:
                validator(value)
            except ValueError as exc:
                raise ConfigError(self.path, lineno, f"{section}['{key}']: {exc}") from None
        try:
            quoted = quote(value)
        except ValueError as exc:
            raise ConfigError(self.path, lineno, str(exc)) from None
        if target is not None:
            old = self.lines[target]
            raw = old.raw[: old.value_start] + quoted + old.raw[old.value_end :]
            self.lines[target] = parse_line(raw)
        else:
            # Follow the file's line ending (a file saved on Windows keeps \r\n).
            neighbour = self.lines[position - 1].raw if position > 0 else ""
            eol = "\r" if neighbour.endswith("\r") else ""
            self.lines.insert(position, parse_line(f"{section}['{key}']={quoted}{eol}"))

    def render(self) -> str:
        text = "\n".join(line.raw for line in self.lines)
        return text + "\n" if self.lines and self.final_newline else text

    def save(self, path: str | Path | None = None) -> None:
        """Write atomically (temp file + rename) so a running server never reads half a file.

        The file holds passwords: the temp file is private (0600) from its creation and
        takes the target's mode only once it is complete.
        """
        target = Path(path or self.path)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o600
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(self.render().encode("utf-8"))
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_private(path: str | Path, data: bytes) -> bool:
    """Create ``path`` with mode 0600 from the first moment (no chmod afterwards, when
    another local user could already have opened it). An existing file is left alone:
    returns False."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return True


# ---------------------------------------------------------------------------
# Known keys: defaults and validators. Unknown keys are kept and ignored.
# ---------------------------------------------------------------------------

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
