"""The signed webhook's answers key by key. An acquirer's integration reads ``result``
and the HTTP status (5xx: retry) to decide, ``code`` to tell refusals apart, and keeps
``payment_id`` (our id) with its ``txn_id``; ``balance`` and ``date`` go to its own
receipts and reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from asr_billing.finance.models import Operation
from asr_billing.gateways.webhook import signature
from tests.conftest import db_state

from .conftest import SECRET, WebhookDriver

pytestmark = pytest.mark.usefixtures("gateways")
hook = WebhookDriver()
MOMENT = datetime(2026, 12, 3, 7, 23, 59, 123456, tzinfo=UTC)  # 10:23:59 in Moscow
STAMP = int(MOMENT.timestamp())


def post(client, body, **kwargs):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return hook.post(client, raw, **kwargs)


def signed_headers(raw: bytes, stamp: int = STAMP, secret: str = SECRET) -> dict:
    return {"X-Timestamp": str(stamp), "X-Signature": "sha256=" + signature(
        secret, str(stamp), raw)}


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k" * 16, b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("k" * 16, "1700000000", b"{}") == expected


def test_pay_answer_and_replay(client, payee):
    with time_machine.travel(MOMENT, tick=False):
        first = post(client, {"event": "pay", "txn_id": "w-1", "account": "BILL0000001",
                              "amount": "100.00"})
        again = post(client, {"event": "pay", "txn_id": "w-1", "account": "BILL0000001",
                              "amount": "100.00"})
    payment = Operation.objects.get()
    expected = {"result": "ok", "event": "pay", "txn_id": "w-1", "replay": False,
                "payment_id": payment.pk, "account": "BILL0000001",
                "contract_number": "BILL0000001", "amount": "100.00", "balance": "100.00",
                "date": "2026-12-03T10:23:59.123456+03:00"}
    assert first.fields == expected
    assert again.fields == {**expected, "replay": True}


def test_check_answer(client, payee):
    answer = post(client, {"event": "check", "account": "BILL0000001"})
    assert answer.fields == {"result": "ok", "event": "check", "account": "BILL0000001",
                             "contract_number": "BILL0000001", "name": "Иванов И. И.",
                             "balance": "0.00"}


def test_cancel_and_status_answers(client, payee):
    with time_machine.travel(MOMENT, tick=False):
        post(client, {"event": "pay", "txn_id": "w-2", "account": "BILL0000001",
                      "amount": "100.00"})
        done = post(client, {"event": "status", "txn_id": "w-2"})
        cancelled = post(client, {"event": "cancel", "txn_id": "w-2"})
        again = post(client, {"event": "cancel", "txn_id": "w-2"})
        reversed_ = post(client, {"event": "status", "txn_id": "w-2"})
        unknown = post(client, {"event": "status", "txn_id": "w-404"})
    payment = Operation.objects.get(external_id="w-2")
    reversal = payment.reversed_by
    date = "2026-12-03T10:23:59.123456+03:00"
    assert done.fields == {"result": "ok", "event": "status", "txn_id": "w-2",
                           "state": "done", "payment_id": payment.pk, "amount": "100.00",
                           "date": date}
    assert cancelled.fields == {"result": "ok", "event": "cancel", "txn_id": "w-2",
                                "replay": False, "payment_id": payment.pk,
                                "reversal_id": reversal.pk, "amount": "100.00",
                                "balance": "0.00", "date": date}
    assert again.fields == {**cancelled.fields, "replay": True}
    assert reversed_.fields == {**done.fields, "state": "reversed", "reversal_id": reversal.pk}
    assert unknown.fields == {"result": "ok", "event": "status", "txn_id": "w-404",
                              "state": "not_found"}


def test_mismatch_names_the_original(client, payee):
    post(client, {"event": "pay", "txn_id": "w-3", "account": "BILL0000001", "amount": "100"})
    payment = Operation.objects.get()
    answer = post(client, {"event": "pay", "txn_id": "w-3", "account": "BILL0000001",
                           "amount": "99"})
    assert (answer.status, answer.fields) == (409, {
        "result": "error", "event": "pay", "txn_id": "w-3", "code": "mismatch",
        "message": "txn_id was already paid with another amount or account",
        "payment_id": payment.pk, "amount": "100.00"})


def test_a_json_number_amount_is_read_by_its_digits(client, payee):
    raw = b'{"event": "pay", "txn_id": "w-4", "account": "BILL0000001", "amount": 100.10}'
    answer = post(client, raw)
    assert (answer.code, answer["amount"]) == ("ok", "100.10")
    assert Operation.objects.get().amount == Decimal("100.10")


@pytest.mark.parametrize("raw", [
    b'{"event": "pay", "txn_id": "w-5", "account": "BILL0000001", "amount": 1e3}',
    b'{"event": "pay", "txn_id": "w-5", "account": "BILL0000001", "amount": NaN}',
    b'{"event": "pay", "txn_id": "w-5", "account": "BILL0000001", "amount": true}',
    b'{"event": "pay", "txn_id": "w-5", "account": "BILL0000001", "amount": null}',
])
def test_amounts_that_are_no_amounts(client, payee, raw):
    before = db_state()
    answer = post(client, raw)
    expected = "bad_request" if b"NaN" in raw else "bad_amount"
    assert answer.code == expected
    assert db_state() == before


@pytest.mark.parametrize(("raw", "code", "message"), [
    (b"not json", "bad_request", "The body is not a JSON object"),
    (b"[1, 2]", "bad_request", "The body is not a JSON object"),
    (b'{"event": "refund", "txn_id": "w"}', "unknown_command", "Unknown event: refund"),
    (b'{"event": "pay", "txn_id": "w 6", "account": "B", "amount": "1"}', "bad_txn",
     "txn_id is missing or malformed"),
    (b'{"event": "pay", "txn_id": "w-6", "amount": "10"}', "bad_account",
     "The account has the wrong format"),
    (b'{"event": "pay", "txn_id": "w-6", "account": "BILL0000001", "amount": "10",'
     b' "date": "yesterday"}', "bad_date", "date must be an ISO 8601 date and time"),
    (b'{"event": "check", "account": "BILL0000404"}', "not_found",
     "Subscriber not found: BILL0000404"),
])
def test_refusals(client, payee, raw, code, message):
    before = db_state()
    answer = post(client, raw)
    assert answer.fields["code"] == code
    assert answer.fields["message"] == message
    assert db_state() == before


def test_a_timestamp_outside_the_window_is_refused(client, payee):
    raw = json.dumps({"event": "pay", "txn_id": "w-7", "account": "BILL0000001",
                      "amount": "10"}).encode()
    before = db_state()
    for moment in (STAMP + 301, STAMP - 301):
        with time_machine.travel(datetime.fromtimestamp(moment, UTC), tick=False):
            response = client.post("/pay/webhook/test/", raw, content_type="application/json",
                                   headers=signed_headers(raw))
        assert response.status_code == 401
        assert json.loads(response.content) == {
            "result": "error", "event": "", "code": "unauthorized",
            "message": "X-Timestamp is outside the allowed window"}
    assert db_state() == before
    with time_machine.travel(datetime.fromtimestamp(STAMP + 300, UTC), tick=False):
        response = client.post("/pay/webhook/test/", raw, content_type="application/json",
                               headers=signed_headers(raw))
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"X-Timestamp": str(STAMP)},
    {"X-Timestamp": "soon", "X-Signature": "sha256=00"},
    {"X-Timestamp": str(STAMP), "X-Signature": "sha256=00"},
])
def test_missing_or_malformed_signatures(client, payee, headers):
    raw = b'{"event": "check", "account": "BILL0000001"}'
    with time_machine.travel(MOMENT, tick=False):
        response = client.post("/pay/webhook/test/", raw, content_type="application/json",
                               headers=headers)
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "unauthorized"


def test_a_signature_of_another_body_is_refused(client, payee):
    raw = b'{"event": "pay", "txn_id": "w-8", "account": "BILL0000001", "amount": "10"}'
    tampered = raw.replace(b'"10"', b'"1000"')
    with time_machine.travel(MOMENT, tick=False):
        response = client.post("/pay/webhook/test/", tampered,
                               content_type="application/json", headers=signed_headers(raw))
    assert response.status_code == 401
    assert Operation.objects.count() == 0


def test_the_signature_without_its_prefix_is_accepted(client, payee):
    raw = b'{"event": "check", "account": "BILL0000001"}'
    headers = signed_headers(raw)
    headers["X-Signature"] = headers["X-Signature"].removeprefix("sha256=").upper()
    with time_machine.travel(MOMENT, tick=False):
        response = client.post("/pay/webhook/test/", raw, content_type="application/json",
                               headers=headers)
    assert response.status_code == 200


def test_only_post(client, payee):
    response = client.get("/pay/webhook/test/")
    assert (response.status_code, response["Allow"]) == (405, "POST")
