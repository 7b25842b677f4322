"""The OSMP / QIWI provider protocol at ``/pay/osmp/<name>/`` (docs/payments.md).

Request (GET query or POST form): ``command`` = ``check`` | ``pay`` (| ``cancel`` where
the instance enables it), ``txn_id`` (the agent's payment id: digits, at most 20),
``account``, ``sum`` (roubles, ``.`` decimals), ``txn_date`` (``YYYYMMDDHHMMSS``, pay).
Answer: XML UTF-8, HTTP 200 (403/401 when the source IP or the credentials are refused)::

    <?xml version="1.0" encoding="UTF-8"?>
    <response>
    <osmp_txn_id>1001</osmp_txn_id>
    <prv_txn>54895</prv_txn>      pay, cancel: our payment id (operation id)
    <sum>100.00</sum>             pay, cancel: the payment's sum as stored
    <result>0</result>
    <comment>OK</comment>
    </response>

A repeated ``pay`` gets the original answer byte for byte (same prv_txn and sum); the
same txn_id with another sum or account is refused with 300.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.http import HttpRequest, HttpResponse

from asr_billing.core.money import fmt
from asr_billing.gateways.base import (
    HTTP_STATUS,
    Command,
    Gateway,
    Outcome,
    Reason,
    Refused,
    register,
    xml_response,
)
from asr_billing.gateways.config import GatewayInstance
from asr_billing.gateways.intake import amount_from_wire
from asr_billing.gateways.texts import OSMP_MISMATCH_ACCOUNT, osmp_comment

# result codes; fatal for QIWI (no retry) except 1 and 90. Not used: 90 (a payment is
# never left in progress: the posting is one transaction) and 243 (a check that cannot
# read the account answers 1, retry).
CODES = {
    Reason.OK: 0,
    Reason.TEMPORARY: 1,
    Reason.BAD_ACCOUNT: 4,
    Reason.NOT_FOUND: 5,
    Reason.FORBIDDEN: 7,
    Reason.UNAUTHORIZED: 7,
    Reason.REFUSED: 8,
    Reason.INACTIVE: 79,
    Reason.TOO_SMALL: 241,
    Reason.TOO_LARGE: 242,
    Reason.CANCEL_NOT_FOUND: 251,
    Reason.BAD_REQUEST: 300,
    Reason.UNKNOWN_COMMAND: 300,
    Reason.BAD_TXN: 300,
    Reason.BAD_AMOUNT: 300,
    Reason.BAD_DATE: 300,
    Reason.MISMATCH: 300,
    Reason.INTERNAL: 300,
}
TXN_ID = re.compile(r"[0-9]{1,20}")
COMMANDS = {"check": "check", "pay": "pay", "cancel": "cancel"}


def params(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    """The named parameters from the query string, then from a POST form (agents use
    either); absent ones are left out."""
    found = {}
    for source in (request.GET, request.POST if request.method == "POST" else {}):
        for name in names:
            if name in source and name not in found:
                found[name] = source.get(name, "")
    return found


def txn_date_valid(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{14}", text):
        return False
    try:
        datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def parse_osmp(values: dict[str, str]) -> Command:
    """The OSMP fields (already read from the request) as a Command; the formats the
    protocol defines are checked here, the account and the rules by the intake."""
    raw_command = values.get("command", "").strip()
    txn_id = values.get("txn_id", "").strip()
    kind = COMMANDS.get(raw_command.lower())
    command = Command(kind or raw_command, txn_id=txn_id, account=values.get("account", ""),
                      extra={"osmp_txn_id": txn_id or None})
    if kind is None:
        raise Refused(Reason.UNKNOWN_COMMAND, raw_command, command)
    if (txn_id or kind != "check") and not TXN_ID.fullmatch(txn_id):
        raise Refused(Reason.BAD_TXN, txn_id, command)
    date = values.get("txn_date", "").strip()
    if date and not txn_date_valid(date):
        raise Refused(Reason.BAD_DATE, date, command)
    text = values.get("sum")
    if kind == "check" and text is not None and not text.strip():
        text = None  # a check may leave the sum empty
    if kind != "cancel":  # a cancel names the payment by txn_id; its sum is the stored one
        try:
            command.amount = amount_from_wire(text)
        except Refused as refused:
            refused.command = command
            raise
    return command


def osmp_fields(command: Command, outcome: Outcome) -> list[tuple[str, object]]:
    """The elements of an OSMP answer, in QIWI's order."""
    reason = outcome.reason
    fields: list[tuple[str, object]] = [("osmp_txn_id", command.extra.get("osmp_txn_id"))]
    if reason is Reason.OK and command.kind in ("pay", "cancel"):
        fields += [("prv_txn", outcome.operation.pk), ("sum", fmt(outcome.operation.amount))]
    fields.append(("result", CODES[reason]))
    if reason is Reason.MISMATCH and outcome.detail == "account":
        fields.append(("comment", OSMP_MISMATCH_ACCOUNT))
    else:
        fields.append(("comment", osmp_comment(reason, outcome.detail)))
    return fields


@register
class OsmpGateway(Gateway):
    type = "osmp"

    def parse(self, request: HttpRequest, instance: GatewayInstance) -> Command:
        return parse_osmp(params(request, ("command", "txn_id", "account", "sum", "txn_date")))

    def render(self, command: Command, outcome: Outcome) -> HttpResponse:
        return xml_answer(osmp_fields(command, outcome), outcome.reason)


def xml_answer(fields, reason: Reason) -> HttpResponse:
    """An XML answer; HTTP 403/401 for a refused source IP or credentials, else 200
    (the code inside is the answer)."""
    response = xml_response(fields, status=HTTP_STATUS.get(reason, 200))
    if reason is Reason.UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Basic realm="asr-billing payments"'
    return response
