"""Sberbank at ``/pay/sberbank/<name>/``: two dialects on one URL (docs/payments.md).

**Protocol 2** (Carbon's ``sbrf.php``): OSMP's semantics and result codes; each field in
either spelling — ``command`` = check | pay / ``ACTION`` = check | payment, ``txn_id`` /
``PAY_ID`` (digits, at most 20), ``account`` / ``ACCOUNT``, ``sum`` / ``AMOUNT``,
``txn_date`` (``YYYYMMDDHHMMSS``) / ``PAY_DATE`` (``DD.MM.YYYY_HH:MM:SS``). The answer is
OSMP's with Sberbank's additions: a check adds ``<fio>`` and ``<balance>``, a payment
``<ext_id>`` (= ``prv_txn``) and ``<reg_date>`` (``YYYYMMDDHHMMSS``).

**SberOnline** (upper case, the bank's ЕПС dialect): ``ACTION`` = check | payment,
``ACCOUNT``, ``AMOUNT``, ``PAY_ID``, ``PAY_DATE`` (required for a payment). Answer
``<response><CODE>…</CODE><MESSAGE>…</MESSAGE>…`` with codes 0–12 and 300; a check adds
``<FIO>``, ``<BALANCE>``, ``<REC_SUM>``; a payment ``<EXT_ID>``, ``<SUM>``,
``<REG_DATE>`` (``DD.MM.YYYY_HH:MM:SS``). A repeated payment gets its original answer;
the same PAY_ID with another sum or account gets ``CODE 8`` with the original
``EXT_ID``, ``REG_DATE`` and ``AMOUNT``.

Which answers: the instance's ``dialect`` (``auto``: SberOnline when the request has
``ACTION``, else protocol 2). Dates are the operator's time zone (app['time_zone']).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from asr_billing.core.money import fmt
from asr_billing.gateways import osmp
from asr_billing.gateways.base import (
    Command,
    Gateway,
    Outcome,
    Reason,
    Refused,
    masked_name,
    register,
)
from asr_billing.gateways.config import GatewayInstance
from asr_billing.gateways.intake import amount_from_wire
from asr_billing.gateways.texts import SBER_MESSAGES

# Each field's two spellings: (protocol 2's, SberOnline's).
SPELLINGS = {
    "command": ("command", "ACTION"),
    "txn_id": ("txn_id", "PAY_ID"),
    "account": ("account", "ACCOUNT"),
    "sum": ("sum", "AMOUNT"),
    "txn_date": ("txn_date", "PAY_DATE"),
}
ACTIONS = {"check": "check", "pay": "pay", "payment": "pay", "cancel": "cancel"}
SBER_CODES = {
    Reason.OK: 0,
    Reason.TEMPORARY: 1,
    Reason.BAD_REQUEST: 2,
    Reason.UNKNOWN_COMMAND: 2,
    Reason.NOT_FOUND: 3,
    Reason.BAD_ACCOUNT: 4,
    Reason.INACTIVE: 5,
    Reason.BAD_TXN: 6,
    Reason.CANCEL_NOT_FOUND: 6,
    Reason.REFUSED: 7,
    Reason.FORBIDDEN: 7,
    Reason.UNAUTHORIZED: 7,
    Reason.MISMATCH: 8,
    Reason.BAD_AMOUNT: 9,
    Reason.TOO_SMALL: 10,
    Reason.TOO_LARGE: 11,
    Reason.BAD_DATE: 12,
    Reason.INTERNAL: 300,
}
PAY_DATE_FORMAT = "%d.%m.%Y_%H:%M:%S"
REG_DATE_PROTOCOL2 = "%Y%m%d%H%M%S"


def _dialect(request: HttpRequest, instance: GatewayInstance) -> str:
    if instance.dialect != "auto":
        return instance.dialect
    try:
        has_action = "ACTION" in request.GET or (
            request.method == "POST" and "ACTION" in request.POST)
    except (SuspiciousOperation, MultiPartParserError, UnicodeError):
        has_action = False  # a body that cannot be read: refused in protocol 2's words
    return "sberonline" if has_action else "protocol2"


def _fields(request: HttpRequest, dialect: str) -> dict[str, tuple[str, str]]:
    """field -> (the value, the name it came under); the dialect's own spelling first."""
    names = [n for pair in SPELLINGS.values() for n in pair]
    values = osmp.params(request, tuple(names))
    found = {}
    for field, (lower, upper) in SPELLINGS.items():
        order = (upper, lower) if dialect == "sberonline" else (lower, upper)
        for name in order:
            if name in values:
                found[field] = (values[name], name)
                break
    return found


def _date_valid(text: str, name: str) -> bool:
    if name == "PAY_DATE":
        try:
            datetime.strptime(text, PAY_DATE_FORMAT)
        except ValueError:
            return False
        return True
    return osmp.txn_date_valid(text)


def parse_sberbank(fields: dict[str, tuple[str, str]], dialect: str) -> Command:
    def value(field: str) -> str | None:
        return fields[field][0] if field in fields else None

    raw = (value("command") or "").strip()
    txn_id = (value("txn_id") or "").strip()
    kind = ACTIONS.get(raw.lower())
    command = Command(kind or raw, txn_id=txn_id, account=value("account") or "",
                      extra={"dialect": dialect, "osmp_txn_id": txn_id or None,
                             "recommended": dialect == "sberonline" and kind == "check"})
    if kind is None:
        raise Refused(Reason.UNKNOWN_COMMAND, raw, command)
    if (txn_id or kind != "check") and not osmp.TXN_ID.fullmatch(txn_id):
        raise Refused(Reason.BAD_TXN, txn_id, command)
    date = (value("txn_date") or "").strip()
    if date and not _date_valid(date, fields["txn_date"][1]):
        raise Refused(Reason.BAD_DATE, date, command)
    if not date and kind == "pay" and dialect == "sberonline":
        raise Refused(Reason.BAD_DATE, "", command)  # the bank always sends PAY_DATE
    text = value("sum")
    if kind == "check" and text is not None and not text.strip():
        text = None
    if kind != "cancel":
        try:
            command.amount = amount_from_wire(text)
        except Refused as refused:
            refused.command = command
            raise
    return command


def _reg_date(operation, pattern: str) -> str:
    moment = getattr(operation, "created_at", None) or operation.op_date
    return timezone.localtime(moment).strftime(pattern)


def protocol2_fields(command: Command, outcome: Outcome) -> list[tuple[str, object]]:
    fields = osmp.osmp_fields(command, outcome)
    if outcome.reason is not Reason.OK:
        return fields
    if command.kind == "check":
        payer = outcome.payer
        fields += [("fio", masked_name(payer.name, payer.is_company)),
                   ("balance", fmt(payer.balance) if payer.balance is not None else None)]
    elif command.kind == "pay":
        # After prv_txn: the bank reads ext_id and reg_date (Carbon's sbrf.php answers).
        operation = outcome.operation
        fields[2:2] = [("ext_id", operation.pk),
                       ("reg_date", _reg_date(operation, REG_DATE_PROTOCOL2))]
    return fields


def sberonline_fields(command: Command, outcome: Outcome) -> list[tuple[str, object]]:
    code = SBER_CODES[outcome.reason]
    fields: list[tuple[str, object]] = [("CODE", code), ("MESSAGE", SBER_MESSAGES[code])]
    operation = outcome.operation
    if outcome.reason is Reason.MISMATCH and operation is not None:
        fields += [("EXT_ID", operation.pk), ("REG_DATE", _reg_date(operation, PAY_DATE_FORMAT)),
                   ("AMOUNT", fmt(operation.amount))]
    elif outcome.reason is Reason.OK and command.kind == "check":
        payer = outcome.payer
        fields += [
            ("FIO", masked_name(payer.name, payer.is_company)),
            ("BALANCE", fmt(payer.balance) if payer.balance is not None else None),
            ("REC_SUM", fmt(outcome.recommended) if outcome.recommended is not None else None),
        ]
    elif outcome.reason is Reason.OK and command.kind in ("pay", "cancel"):
        fields += [("EXT_ID", operation.pk), ("SUM", fmt(operation.amount)),
                   ("REG_DATE", _reg_date(operation, PAY_DATE_FORMAT))]
    return fields


@register
class SberbankGateway(Gateway):
    type = "sberbank"

    def parse(self, request: HttpRequest, instance: GatewayInstance) -> Command:
        dialect = _dialect(request, instance)
        return parse_sberbank(_fields(request, dialect), dialect)

    def unread(self, request: HttpRequest, instance: GatewayInstance) -> Command:
        # Refused before reading (IP, credentials): the dialect's answer, nothing echoed.
        return Command("", extra={"dialect": _dialect(request, instance)})

    def render(self, command: Command, outcome: Outcome) -> HttpResponse:
        if command.extra.get("dialect") == "sberonline":
            return osmp.xml_answer(sberonline_fields(command, outcome), outcome.reason)
        return osmp.xml_answer(protocol2_fields(command, outcome), outcome.reason)
