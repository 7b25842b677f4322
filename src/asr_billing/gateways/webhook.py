"""A generic signed webhook at ``/pay/webhook/<name>/`` for modern acquirers
(docs/payments.md).

Request: ``POST``, a JSON object body::

    {"event": "pay", "txn_id": "a1b2c3", "account": "BILL0000003", "amount": "100.00"}

``event``: check | pay | cancel (where the instance enables it) | status; ``txn_id``:
the acquirer's payment id (1–64 of ``A-Z a-z 0-9 . _ : -``); ``amount``: roubles as a
string (a JSON number is read by its digits, never as a float).

Headers: ``X-Timestamp`` (Unix seconds) and ``X-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``<timestamp>.<raw body>`` under the instance's secret. A timestamp
further than ``window_seconds`` from the server's clock is refused: a captured request
cannot be replayed later (within the window a replay is harmless: exactly once).

Answers: JSON; HTTP 200 with ``"result": "ok"``; refusals with ``"result": "error"``, a
stable ``code`` and an English ``message``, and an HTTP status: 400 malformed, 401
signature, 403 source IP, 404 unknown account or payment, 409 the txn_id was paid with
another amount or account, 422 refused by a rule (limits, blocked, operator off), 503
retry later, 500 internal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from asr_billing.core.money import fmt
from asr_billing.core.wire import json_text, utf8
from asr_billing.gateways.base import (
    COMMANDS,
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

TXN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
STATUS = {
    Reason.OK: 200,
    Reason.BAD_REQUEST: 400,
    Reason.UNKNOWN_COMMAND: 400,
    Reason.BAD_ACCOUNT: 400,
    Reason.BAD_TXN: 400,
    Reason.BAD_AMOUNT: 400,
    Reason.BAD_DATE: 400,
    Reason.UNAUTHORIZED: 401,
    Reason.FORBIDDEN: 403,
    Reason.NOT_FOUND: 404,
    Reason.CANCEL_NOT_FOUND: 404,
    Reason.MISMATCH: 409,
    Reason.INACTIVE: 422,
    Reason.TOO_SMALL: 422,
    Reason.TOO_LARGE: 422,
    Reason.REFUSED: 422,
    Reason.INTERNAL: 500,
    Reason.TEMPORARY: 503,
}
# Machine clients read ``code``; the message is for the people who read their logs.
MESSAGES = {
    Reason.BAD_REQUEST: "The body is not a JSON object",
    Reason.UNKNOWN_COMMAND: "Unknown event: {0}",
    Reason.BAD_ACCOUNT: "The account has the wrong format",
    Reason.NOT_FOUND: "Subscriber not found: {0}",
    Reason.INACTIVE: "Payments to this account are not accepted",
    Reason.BAD_TXN: "txn_id is missing or malformed",
    Reason.BAD_AMOUNT: "amount must be a positive amount with at most 2 decimals",
    Reason.TOO_SMALL: "The amount is below this gateway's minimum",
    Reason.TOO_LARGE: "The amount is above this gateway's maximum",
    Reason.BAD_DATE: "date must be an ISO 8601 date and time",
    Reason.MISMATCH: "txn_id was already paid with another amount or account",
    Reason.REFUSED: "Payments are refused for technical reasons",
    Reason.CANCEL_NOT_FOUND: "No payment with this txn_id",
    Reason.FORBIDDEN: "The source IP is not allowed",
    Reason.UNAUTHORIZED: "Missing or wrong X-Timestamp / X-Signature",
    Reason.TEMPORARY: "Temporary error, retry later",
    Reason.INTERNAL: "Internal error",
}
STALE = "X-Timestamp is outside the allowed window"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: no amount, no id


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_webhook(body: bytes) -> Command:
    try:
        # Numbers keep their literal text (parse_float/int=str): money is never a float.
        data = json.loads(body, parse_float=str, parse_int=str, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise Refused(Reason.BAD_REQUEST) from None
    if not isinstance(data, dict):
        raise Refused(Reason.BAD_REQUEST)
    event = _text(data.get("event")) or ""
    txn_id = _text(data.get("txn_id"))
    account = _text(data.get("account"))
    kind = event if event in COMMANDS else None
    command = Command(kind or event, txn_id=(txn_id or "").strip(), account=account or "",
                      extra={"echo_account": account})
    if kind is None:
        raise Refused(Reason.UNKNOWN_COMMAND, event, command)
    if (txn_id is not None or kind != "check") and not TXN_ID.fullmatch(command.txn_id):
        raise Refused(Reason.BAD_TXN, command.txn_id, command)
    if kind in ("check", "pay") and account is None:
        raise Refused(Reason.BAD_ACCOUNT, "", command)
    date = data.get("date")
    if date is not None and not _iso_datetime(date):
        raise Refused(Reason.BAD_DATE, str(date), command)
    amount = data.get("amount")
    if kind == "pay" or (kind == "check" and amount is not None):
        if not isinstance(amount, str):
            raise Refused(Reason.BAD_AMOUNT, "", command)
        try:
            command.amount = amount_from_wire(amount)
        except Refused as refused:
            refused.command = command
            raise
    return command


def _iso_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _date(operation) -> str:
    moment = getattr(operation, "created_at", None) or operation.op_date
    return timezone.localtime(moment).isoformat()


def webhook_body(command: Command, outcome: Outcome) -> dict:
    reason = outcome.reason
    body: dict = {"result": "ok" if reason is Reason.OK else "error", "event": command.kind}
    if command.txn_id:
        body["txn_id"] = command.txn_id
    operation = outcome.operation
    if reason is not Reason.OK:
        message = MESSAGES[reason].format(outcome.detail[:60])
        if outcome.detail == "stale":
            message = STALE
        body.update(code=reason.value, message=message)
        if reason is Reason.MISMATCH and operation is not None:
            body.update(payment_id=operation.pk, amount=fmt(operation.amount))
        return body
    if command.kind == "check":
        payer = outcome.payer
        body.update(
            account=command.extra.get("echo_account"),
            contract_number=payer.contract_number,
            name=masked_name(payer.name, payer.is_company),
            balance=fmt(payer.balance) if payer.balance is not None else None,
        )
    elif command.kind == "pay":
        body.update(
            replay=outcome.replay,
            payment_id=operation.pk,
            account=command.extra.get("echo_account"),
            contract_number=outcome.contract_number,
            amount=fmt(operation.amount),
            balance=fmt(operation.balance_after),
            date=_date(operation),
        )
    elif command.kind == "cancel":
        reversal = outcome.reversal
        body.update(
            replay=outcome.replay,
            payment_id=operation.pk,
            reversal_id=reversal.pk,
            amount=fmt(operation.amount),
            balance=fmt(reversal.balance_after),
            date=_date(reversal),
        )
    else:  # status
        body["state"] = outcome.state
        if operation is not None:
            body.update(payment_id=operation.pk, amount=fmt(operation.amount),
                        date=_date(operation))
        if outcome.reversal is not None:
            body["reversal_id"] = outcome.reversal.pk
    return body


@register
class WebhookGateway(Gateway):
    type = "webhook"
    methods = ("POST",)

    def authenticate(self, request: HttpRequest, instance: GatewayInstance) -> None:
        timestamp = request.headers.get("X-Timestamp", "").strip()
        given = request.headers.get("X-Signature", "").strip()
        if given[:7].lower() == "sha256=":
            given = given[7:]
        if not TIMESTAMP.fullmatch(timestamp):
            raise Refused(Reason.UNAUTHORIZED)
        expected = signature(instance.secret, timestamp, request.body)
        if not hmac.compare_digest(given.lower().encode("ascii", "replace"),
                                   expected.encode("ascii")):
            raise Refused(Reason.UNAUTHORIZED)
        if abs(time.time() - int(timestamp)) > instance.window_seconds:
            raise Refused(Reason.UNAUTHORIZED, "stale")

    def parse(self, request: HttpRequest, instance: GatewayInstance) -> Command:
        return parse_webhook(request.body)

    def render(self, command: Command, outcome: Outcome) -> HttpResponse:
        body = json_text(webhook_body(command, outcome))
        return HttpResponse(utf8(body), status=STATUS[outcome.reason],
                            content_type="application/json; charset=utf-8")
