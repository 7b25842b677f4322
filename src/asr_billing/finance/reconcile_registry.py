"""Reading a payment system's daily registry ("реестр платежей") into rows.

Two layouts (docs/payments.md, "Reconciliation", describes both with examples):

- ``sberbank``: Sberbank's payment registry as radius-and-payments §2.4 describes the
  public variant: ``;``-separated, one payment per line — ГОСБ code; branch (ВСП) code;
  cashier or terminal; the bank's operation number (our transaction id); the amount; the
  fee kept by the bank; ``dd/mm/yyyy``; ``HH:MM:SS``; then tagged fields ``TAG:value``, of
  which ``CLIENTNO:<account>`` is required. Lines before the first payment line whose first
  field is not a number are the header (a title; kept, not parsed). The last line is the
  total: ``=<count>;<amount total>;<fee total>[;<payment order no>;<its date>]``, and it
  must agree with the rows (the only check that a cut-off file is not taken for a short
  day). No public source confirms the total line (§2.4 [UNK]): the layout is ours until an
  operator's real sample says otherwise.
- ``csv``: any delimiter-separated file; which column holds what, the delimiter, the
  encoding, the date format and the header rows to skip are the gateway instance's
  settings (``RegistrySettings``).

Parsing is all or nothing: the first problem raises ``RegistryError`` naming the line
(1-based, as an editor counts them), and no row is returned. Amounts are Decimal roubles
with at most 2 places (``,`` or ``.``); ``1e3``, ``NaN``, ``1.005`` and zero are refused.
Dates and times are the payment system's, read in app['time_zone'].
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from asr_billing.core.config_schema import REGISTRY_ENCODINGS, REGISTRY_FORMATS
from asr_billing.core.errors import InvalidInput
from asr_billing.core.money import ZERO, MoneyError, parse_amount

FORMATS = REGISTRY_FORMATS
ENCODINGS = REGISTRY_ENCODINGS
MAX_TXN_ID = 100  # Operation.external_id
MAX_ACCOUNT = 64  # a login is at most 64 characters, a contract number 32
MAX_FIELD = 500  # no field of a registry is longer; a longer one is a broken file

# Sberbank's fixed fields before the tagged ones, and the tag that holds the account.
SBER_FIXED = 8
SBER_ACCOUNT_TAG = "CLIENTNO"
_DIGITS = re.compile(r"[0-9]{1,12}")
_SBER_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_SBER_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})")
_TAG = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,39}):(.*)", re.DOTALL)


class RegistryError(InvalidInput):
    """The registry cannot be read; ``line`` is the 1-based line of the first problem."""

    code = "bad_registry"

    def __init__(self, line: int, problem: str):
        super().__init__(_("Line %(line)s: %(problem)s") % {"line": line, "problem": problem})
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class RegistrySettings:
    """How one gateway instance's registries are read (payments['<type>.<name>.registry.*'],
    docs/configuration.md). Columns are 1-based; 0 means the file has no such column."""

    format: str = "csv"
    encoding: str = "auto"
    delimiter: str = ";"
    skip_rows: int = 0
    txn_id_column: int = 1
    account_column: int = 2
    amount_column: int = 3
    date_column: int = 4
    time_column: int = 0
    fee_column: int = 0
    date_format: str = "%d.%m.%Y"
    time_format: str = "%H:%M:%S"

    @property
    def columns(self) -> dict[str, int]:
        return {
            "txn_id": self.txn_id_column,
            "account": self.account_column,
            "amount": self.amount_column,
            "date": self.date_column,
            "time": self.time_column,
            "fee": self.fee_column,
        }


@dataclass(frozen=True)
class RegistryRow:
    """One payment of the registry. ``amount`` and ``fee`` in roubles (``fee``: what the
    bank kept, None when the layout has no fee); ``paid_at`` aware, in app['time_zone']."""

    line: int
    txn_id: str
    account: str
    amount: Decimal
    paid_at: datetime
    fee: Decimal | None = None

    @property
    def day(self) -> date:
        return self.paid_at.date()


@dataclass(frozen=True)
class Registry:
    format: str
    encoding: str
    rows: tuple[RegistryRow, ...]
    header: tuple[str, ...] = field(default=())

    @property
    def amount(self) -> Decimal:
        return sum((row.amount for row in self.rows), ZERO)

    @property
    def fee(self) -> Decimal | None:
        fees = [row.fee for row in self.rows if row.fee is not None]
        return sum(fees, ZERO) if fees else None

    @property
    def first_day(self) -> date | None:
        return min((row.day for row in self.rows), default=None)

    @property
    def last_day(self) -> date | None:
        return max((row.day for row in self.rows), default=None)


def registry_parse(
    data: bytes, *, settings: RegistrySettings, time_zone: str, fmt: str | None = None
) -> Registry:
    """Read a registry file's bytes in ``fmt`` (default: the settings' format). Raises
    RegistryError with the line of the first problem."""
    fmt = fmt or settings.format
    if fmt not in FORMATS:
        raise ValueError(f"unknown registry format {fmt!r}")
    text, encoding = decode(data, settings.encoding)
    if not text.strip():
        raise RegistryError(1, _("the registry is empty"))
    nul = text.find("\x00")
    if nul >= 0:
        raise RegistryError(text.count("\n", 0, nul) + 1, _("a NUL character (a binary file?)"))
    zone = ZoneInfo(time_zone)
    if fmt == "sberbank":
        header, rows = _parse_sberbank(_lines(text), zone)
    else:
        header, rows = _parse_csv(text, settings, zone)
    seen: dict[str, int] = {}
    for row in rows:
        first = seen.setdefault(row.txn_id, row.line)
        if first != row.line:
            raise RegistryError(
                row.line,
                _("transaction %(id)s is listed twice (first on line %(first)s)")
                % {"id": row.txn_id, "first": first},
            )
    return Registry(format=fmt, encoding=encoding, rows=tuple(rows), header=tuple(header))


def decode(data: bytes, encoding: str) -> tuple[str, str]:
    """The file's text and the encoding it was read in. ``auto``: UTF-8 when it starts
    with a BOM or is valid UTF-8 (cp1251 Cyrillic practically never is), else cp1251."""
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8):], "utf-8"
    tries = ["utf-8", "cp1251"] if encoding == "auto" else [encoding]
    for name in tries[:-1]:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    try:
        return data.decode(tries[-1]), tries[-1]
    except UnicodeDecodeError as exc:
        raise RegistryError(
            data[: exc.start].count(b"\n") + 1,
            _("byte %(byte)s is not %(encoding)s text")
            % {"byte": f"0x{data[exc.start]:02X}",
               "encoding": "UTF-8" if tries[-1] == "utf-8" else tries[-1]},
        ) from None


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) without line ends; CRLF and LF both end a line."""
    return [(number, line.rstrip("\r")) for number, line in enumerate(text.split("\n"), 1)]


def _amount(line: int, text: str, what: str, *, positive: bool = True) -> Decimal:
    """A registry amount: digits, ``.`` or ``,`` and at most 2 decimals; no exponent, no
    NaN, no rounding (parse_amount). ``what`` names the field in the error."""
    try:
        value = parse_amount(text, positive=False) if len(text) <= 20 else None
    except (MoneyError, ArithmeticError):
        value = None
    if value is None or value < 0 or (positive and value == 0):
        if positive:
            problem = _("%(what)s %(value)s is not an amount greater than zero with at most "
                        "2 decimal places") % {"what": what, "value": repr(text)}
        else:
            problem = _("%(what)s %(value)s is not an amount of zero or more with at most "
                        "2 decimal places") % {"what": what, "value": repr(text)}
        raise RegistryError(line, problem)
    return value


def _txn_id(line: int, text: str) -> str:
    value = text.strip()
    if not value or len(value) > MAX_TXN_ID or any(ch.isspace() for ch in value):
        raise RegistryError(
            line,
            _("transaction id %(value)s must be 1 to %(max)s characters without spaces")
            % {"value": repr(text), "max": MAX_TXN_ID},
        )
    return value


def _account(line: int, text: str) -> str:
    value = text.strip()
    if not value or len(value) > MAX_ACCOUNT:
        raise RegistryError(
            line,
            _("account %(value)s must be 1 to %(max)s characters")
            % {"value": repr(text), "max": MAX_ACCOUNT},
        )
    return value


# --- sberbank ---


def _sber_date(line: int, text: str) -> date:
    match = _SBER_DATE.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise RegistryError(
            line, _("date %(value)s is not dd/mm/yyyy") % {"value": repr(text)}
        ) from None


def _sber_time(line: int, text: str) -> time:
    match = _SBER_TIME.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        return time(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise RegistryError(
            line, _("time %(value)s is not HH:MM:SS") % {"value": repr(text)}
        ) from None


def _is_payment_line(text: str) -> bool:
    return bool(_DIGITS.fullmatch(text.split(";", 1)[0].strip()))


def _parse_sberbank(lines, zone: ZoneInfo) -> tuple[list[str], list[RegistryRow]]:
    header: list[str] = []
    rows: list[RegistryRow] = []
    total: tuple[int, str] | None = None
    for number, text in lines:
        if not text.strip():
            continue
        if total is not None:
            raise RegistryError(number, _("text after the total line (line %(total)s)")
                                % {"total": total[0]})
        if text.startswith("="):
            total = (number, text)
        elif _is_payment_line(text):
            rows.append(_sber_row(number, text, zone))
        elif not rows:
            header.append(text)
        else:
            raise RegistryError(
                number,
                _("not a payment line: its first field (the ГОСБ code) is not a number"),
            )
    if total is None:
        last = max((n for n, t in lines if t.strip()), default=1)
        raise RegistryError(last, _("the total line (=count;amount;fee) is missing: "
                                    "the file may be cut off"))
    _sber_total(*total, rows)
    return header, rows


def _sber_row(number: int, text: str, zone: ZoneInfo) -> RegistryRow:
    fields = text.split(";")
    if len(fields) < SBER_FIXED + 1:
        raise RegistryError(
            number,
            _("%(count)s fields; a payment line has %(fixed)s fields and then "
              "CLIENTNO:<account>") % {"count": len(fields), "fixed": SBER_FIXED},
        )
    if any(len(value) > MAX_FIELD for value in fields):
        raise RegistryError(number, _("a field is longer than %(max)s characters")
                            % {"max": MAX_FIELD})
    if not _DIGITS.fullmatch(fields[1].strip()):
        raise RegistryError(number, _("branch (ВСП) code %(value)s is not a number")
                            % {"value": repr(fields[1])})
    txn_id = _txn_id(number, fields[3])
    amount = _amount(number, fields[4].strip(), _("amount"))
    fee = _amount(number, fields[5].strip(), pgettext("bank fee", "fee"), positive=False)
    day = _sber_date(number, fields[6])
    at = _sber_time(number, fields[7])
    tags: dict[str, str] = {}
    for value in fields[SBER_FIXED:]:
        match = _TAG.fullmatch(value.strip())
        if match is None:
            raise RegistryError(
                number,
                _("field %(value)s is not TAG:value (after the %(fixed)s fixed fields)")
                % {"value": repr(value), "fixed": SBER_FIXED},
            )
        if match[1].upper() in tags:
            raise RegistryError(number, _("tag %(tag)s appears twice") % {"tag": match[1]})
        tags[match[1].upper()] = match[2]
    if SBER_ACCOUNT_TAG not in tags:
        raise RegistryError(number, _("no CLIENTNO:<account> field"))
    return RegistryRow(
        line=number,
        txn_id=txn_id,
        account=_account(number, tags[SBER_ACCOUNT_TAG]),
        amount=amount,
        fee=fee,
        paid_at=timezone.make_aware(datetime.combine(day, at), zone),
    )


def _sber_total(number: int, text: str, rows: list[RegistryRow]) -> None:
    fields = text[1:].split(";")
    if len(fields) not in (3, 5):
        raise RegistryError(
            number,
            _("the total line has %(count)s fields; it is =count;amount;fee, optionally "
              "followed by ;payment order number;its date") % {"count": len(fields)},
        )
    count_text = fields[0].strip()
    if not count_text.isascii() or not count_text.isdigit() or len(count_text) > 9:
        raise RegistryError(number, _("the total count %(value)s is not a number")
                            % {"value": repr(fields[0])})
    amount = _amount(number, fields[1].strip(), _("total amount"), positive=False)
    fee = _amount(number, fields[2].strip(), _("total fee"), positive=False)
    if len(fields) == 5:
        _sber_date(number, fields[4])
    count = int(count_text)
    rows_amount = sum((row.amount for row in rows), ZERO)
    rows_fee = sum((row.fee or ZERO for row in rows), ZERO)
    if (count, amount, fee) != (len(rows), rows_amount, rows_fee):
        raise RegistryError(
            number,
            _("the total line says %(count)s payments, %(amount)s, fee %(fee)s; the lines "
              "hold %(rows)s payments, %(rows_amount)s, fee %(rows_fee)s")
            % {"count": count, "amount": amount, "fee": fee, "rows": len(rows),
               "rows_amount": rows_amount, "rows_fee": rows_fee},
        )


# --- csv ---


def _parse_csv(text: str, settings: RegistrySettings, zone: ZoneInfo):
    needed = max(settings.columns.values())
    lines = text.split("\n")
    line_count = len(lines) - (1 if text.endswith("\n") else 0)
    if line_count < settings.skip_rows:
        raise RegistryError(
            line_count,
            _("the file has %(lines)s lines, fewer than the %(skip)s header rows to skip")
            % {"lines": line_count, "skip": settings.skip_rows},
        )
    # Each piece gets its line end back, so a quoted field may span lines and the
    # reader's line_num counts the lines as an editor does.
    reader = csv.reader(
        (line + "\n" for line in lines), delimiter=settings.delimiter, quotechar='"',
        strict=True,
    )
    header: list[str] = []
    rows: list[RegistryRow] = []
    width: int | None = None
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RegistryError(reader.line_num, _("cannot split the line: %(error)s")
                                % {"error": exc}) from None
        if start <= settings.skip_rows:
            header.append(settings.delimiter.join(fields))
            continue
        if not "".join(fields).strip():
            continue  # a blank line
        if width is None:
            width = len(fields)
            if width < needed:
                raise RegistryError(
                    start,
                    _("%(count)s columns; the settings read column %(needed)s")
                    % {"count": width, "needed": needed},
                )
        elif len(fields) != width:
            raise RegistryError(
                start,
                _("%(count)s columns; the first payment line has %(width)s")
                % {"count": len(fields), "width": width},
            )
        rows.append(_csv_row(start, fields, settings, zone))
    return header, rows


def _csv_row(number: int, fields: list[str], settings: RegistrySettings, zone) -> RegistryRow:
    def column(index: int) -> str:
        return fields[index - 1].strip()

    if any(len(value) > MAX_FIELD for value in fields):
        raise RegistryError(number, _("a field is longer than %(max)s characters")
                            % {"max": MAX_FIELD})
    moment = _csv_moment(number, column(settings.date_column), settings.date_format)
    if settings.time_column:
        at = _csv_moment(number, column(settings.time_column), settings.time_format).time()
        moment = datetime.combine(moment.date(), at)
    fee = None
    if settings.fee_column:
        fee = _amount(number, column(settings.fee_column), pgettext("bank fee", "fee"),
                      positive=False)
    return RegistryRow(
        line=number,
        txn_id=_txn_id(number, column(settings.txn_id_column)),
        account=_account(number, column(settings.account_column)),
        amount=_amount(number, column(settings.amount_column), _("amount")),
        fee=fee,
        paid_at=timezone.make_aware(moment, zone),
    )


def _csv_moment(number: int, text: str, fmt: str) -> datetime:
    try:
        return datetime.strptime(text, fmt)  # made aware by the caller
    except ValueError:
        raise RegistryError(
            number,
            _("%(value)s does not match the date format %(format)s")
            % {"value": repr(text), "format": fmt},
        ) from None
