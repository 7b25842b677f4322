"""Writes go through the services (their checks and audit rows); bad input gets a
problem naming the field and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.core.models import AuditEntry, Task
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.finance.services import payment_register
from asr_billing.network.models import Login
from asr_billing.network.selectors import login_password
from asr_billing.subscribers.models import Subscriber
from tests.conftest import db_state

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def refused(client, method, url, body, status, field=None):
    """The call is refused with ``status`` (naming ``field``) and nothing changes."""
    before = db_state()
    answer = getattr(client, method)(url, body, format="json", **EN)
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["detail"]
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]], problem
    assert db_state() == before
    return problem


def test_create_a_subscriber(admin_api, group, tariff):
    answer = admin_api.post("/api/v1/subscribers/", {
        "name": "Петров Пётр", "group": group.pk, "tariff": tariff.pk, "email": "p@example.org",
        "credit_limit": "100.00"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    subscriber = Subscriber.objects.get(pk=body["id"])
    assert answer["Location"].endswith(f"/api/v1/subscribers/{subscriber.pk}/")
    assert body["contract_number"] == subscriber.contract_number
    assert body["credit_limit"] == "100.00" and body["balance"] == "0.00"
    audit = AuditEntry.objects.get(action="subscriber_create", object_id=str(subscriber.pk))
    assert audit.actor.startswith("api:")


@pytest.mark.parametrize("body, field", [
    ({"group": 1}, "name"),
    ({"name": "X"}, "group"),
    ({"name": "X", "group": 999999}, "group"),
    ({"name": "X", "group": "one"}, "group"),
    ({"name": "X", "group": None, "email": "not-mail"}, "email"),
    ({"name": "X", "credit_limit": "-1"}, "credit_limit"),
    ({"name": "X", "credit_limit": "1.234"}, "credit_limit"),
    ({"name": "X", "connected_on": "31.12.2026"}, "connected_on"),
    ({"name": "  "}, "name"),
])
def test_bad_subscriber_input(admin_api, group, body, field):
    body = {**body}
    # group 1 stands for the test's group; a case about another field gets it too.
    if body.get("group") == 1 or ("group" not in body and field != "group"):
        body["group"] = group.pk
    refused(admin_api, "post", "/api/v1/subscribers/", body, 400, field)


def test_a_taken_contract_number_is_a_conflict(admin_api, subscriber, group):
    problem = refused(admin_api, "post", "/api/v1/subscribers/",
                      {"name": "X", "group": group.pk,
                       "contract_number": subscriber.contract_number}, 409)
    assert subscriber.contract_number in problem["detail"]


def test_patch_a_subscriber(admin_api, subscriber):
    answer = admin_api.patch(f"/api/v1/subscribers/{subscriber.pk}/",
                             {"address": "ул. Мира, 1", "comments": "from CRM"}, format="json")
    assert answer.status_code == 200, answer.content
    subscriber.refresh_from_db()
    assert subscriber.address == "ул. Мира, 1" and subscriber.comments == "from CRM"
    refused(admin_api, "patch", f"/api/v1/subscribers/{subscriber.pk}/", {"name": ""}, 400,
            "name")
    # PUT and DELETE are not offered: a subscriber is never deleted through the API.
    assert admin_api.put(f"/api/v1/subscribers/{subscriber.pk}/", {}, format="json") \
        .status_code == 405
    assert admin_api.delete(f"/api/v1/subscribers/{subscriber.pk}/").status_code == 405


def test_block_and_unblock(admin_api, subscriber):
    url = f"/api/v1/subscribers/{subscriber.pk}/"
    answer = admin_api.post(url + "block/", {"reason": "fraud"}, format="json")
    assert answer.status_code == 200 and answer.json()["admin_blocked"] is True
    refused(admin_api, "post", url + "block/", {}, 409)
    assert admin_api.post(url + "unblock/").json()["admin_blocked"] is False
    refused(admin_api, "post", url + "unblock/", {}, 409)


def test_credit_and_tariff(admin_api, subscriber, tariff):
    from asr_billing.tariffs.models import Tariff

    url = f"/api/v1/subscribers/{subscriber.pk}/"
    assert admin_api.post(url + "credit/", {"credit_limit": "250.00"}, format="json") \
        .json()["credit_limit"] == "250.00"
    refused(admin_api, "post", url + "credit/", {"credit_limit": "-5"}, 400, "credit_limit")
    other = Tariff.objects.create(name="Other", fee=Decimal("10.00"))
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    body = admin_api.post(url + "tariff/", {"tariff": other.pk, "on": day}, format="json").json()
    assert body["tariff_next"] == other.pk and body["tariff_next_date"] == day
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    refused(admin_api, "post", url + "tariff/", {"tariff": other.pk, "on": past}, 400)
    assert admin_api.post(url + "tariff/", {"tariff": None}, format="json") \
        .json()["tariff_next"] is None


def test_logins_never_show_a_password(admin_api, subscriber, nas):
    answer = admin_api.post("/api/v1/logins/", {
        "subscriber": subscriber.pk, "login": "newlogin", "password": "Secret-123",
        "ip": "10.5.0.7", "nas": nas.pk}, format="json")
    assert answer.status_code == 201, answer.content
    assert "password" not in answer.json() and "Secret-123" not in answer.content.decode()
    login = Login.objects.get(login="newlogin")
    assert login_password(login) == "Secret-123"
    for url in ("/api/v1/logins/", f"/api/v1/logins/{login.pk}/"):
        text = admin_api.get(url).content.decode()
        assert "Secret-123" not in text and "password" not in text
    patched = admin_api.patch(f"/api/v1/logins/{login.pk}/", {"password": "Other-456",
                                                              "enabled": False}, format="json")
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    login.refresh_from_db()
    assert login_password(login) == "Other-456"


@pytest.mark.parametrize("body, status, field", [
    ({"login": "bad login", "password": "Secret-123"}, 400, None),
    ({"login": "ok", "password": ""}, 400, "password"),
    ({"login": "ok", "password": "Secret-123", "ip": "10.0.0.300"}, 400, "ip"),
    ({"login": "ok", "password": "Secret-123", "mac": "zz:zz"}, 400, None),
    ({"login": "taken", "password": "Secret-123"}, 409, None),
])
def test_bad_login_input(admin_api, subscriber, make_login, body, status, field):
    make_login(subscriber, "taken")
    refused(admin_api, "post", "/api/v1/logins/", {"subscriber": subscriber.pk, **body},
            status, field)


def test_a_refused_login_patch_keeps_the_password(admin_api, subscriber, make_login):
    make_login(subscriber, "holder", ip="10.7.0.1")
    login = make_login(subscriber, "mover")
    refused(admin_api, "patch", f"/api/v1/logins/{login.pk}/",
            {"password": "Changed-999", "ip": "10.7.0.1"}, 409)


@pytest.fixture
def bank(db):
    return PaymentOperator.objects.create(code="BANK", name="Bank")


def test_a_payment_and_its_retry(admin_api, subscriber, bank):
    body = {"subscriber": subscriber.contract_number, "amount": "150.50", "operator": "BANK",
            "external_id": "bank-77"}
    first = admin_api.post("/api/v1/payments/", body, format="json")
    assert first.status_code == 201
    data = first.json()
    assert data["amount"] == "150.50" and data["type"] == "payment" and data["operator"] == "BANK"
    again = admin_api.post("/api/v1/payments/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("150.50")
    problem = refused(admin_api, "post", "/api/v1/payments/", {**body, "amount": "150.51"}, 409)
    assert problem["code"] == "payment_mismatch"


@pytest.mark.parametrize("change, status, field", [
    ({"amount": "0"}, 400, "amount"),
    ({"amount": "-10"}, 400, "amount"),
    ({"amount": "1e3"}, 400, "amount"),
    ({"amount": "NaN"}, 400, "amount"),
    ({"amount": "10.001"}, 400, "amount"),
    ({"amount": "999999999999999"}, 400, "amount"),
    ({"operator": "NOPE"}, 404, None),
    ({"subscriber": "NO-SUCH"}, 404, None),
    ({"external_id": ""}, 400, "external_id"),
    ({"op_date": "yesterday"}, 400, "op_date"),
])
def test_bad_payments(admin_api, subscriber, bank, change, status, field):
    body = {"subscriber": subscriber.contract_number, "amount": "10.00", "operator": "BANK",
            "external_id": "bad-1", **change}
    refused(admin_api, "post", "/api/v1/payments/", body, status, field)


def test_a_json_number_amount_is_taken_exactly(admin_api, subscriber, bank):
    answer = admin_api.post("/api/v1/payments/", {
        "subscriber": subscriber.contract_number, "amount": 10.1, "operator": "BANK",
        "external_id": "number-1"}, format="json")
    assert answer.status_code == 201 and answer.json()["amount"] == "10.10"


def test_reverse_an_operation(admin_api, subscriber, bank):
    payment = payment_register(subscriber=subscriber, amount=Decimal("40.00"), actor="t",
                               operator=bank, external_id="r-1").operation
    answer = admin_api.post(f"/api/v1/operations/{payment.pk}/reverse/",
                            {"description": "mistake"}, format="json")
    assert answer.status_code == 201, answer.content
    reversal = answer.json()
    assert reversal["type"] == "reversal" and reversal["amount"] == "-40.00"
    assert reversal["reverses"] == payment.pk
    assert admin_api.get(f"/api/v1/payments/{payment.pk}/").json()["reversed_by"] == \
        reversal["id"]
    refused(admin_api, "post", f"/api/v1/operations/{payment.pk}/reverse/", {}, 409)
    refused(admin_api, "post", f"/api/v1/operations/{reversal['id']}/reverse/", {}, 400)
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("0.00")


def test_promised_payment_and_voluntary_block(admin_api, subscriber):
    answer = admin_api.post("/api/v1/promised-payments/", {"subscriber": subscriber.pk},
                            format="json")
    assert answer.status_code in (201, 400), answer.content
    if answer.status_code == 400:  # the tariff's rules refused it: nothing changed
        assert answer.json()["detail"]
    refused(admin_api, "post", "/api/v1/promised-payments/", {"subscriber": 999999}, 404)
    start = timezone.localdate() + timedelta(days=1)
    refused(admin_api, "post", "/api/v1/voluntary-blocks/",
            {"subscriber": subscriber.pk, "start_date": (start + timedelta(days=5)).isoformat(),
             "end_date": start.isoformat()}, 400)


def test_a_billing_run_is_queued_as_a_task(admin_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_api.post("/api/v1/billing-runs/", {}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    task = Task.objects.get(name="api.billing_run")
    assert task.payload["actor"].startswith("api:")
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    refused(admin_api, "post", "/api/v1/billing-runs/", {"date": future}, 400, "date")


def test_the_queued_run_charges(admin_api, subscriber, django_capture_on_commit_callbacks):
    from asr_billing.billing.models import BillingRun
    from asr_billing.core.tasks import tasks_run_due

    with django_capture_on_commit_callbacks(execute=True):
        admin_api.post("/api/v1/billing-runs/", {}, format="json")
    tasks_run_due(now=timezone.now() + timedelta(seconds=1))
    run = BillingRun.objects.get()
    assert run.actor.startswith("api:")
    assert admin_api.get("/api/v1/billing-runs/").json()["results"][0]["id"] == run.pk
    assert Operation.objects.filter(type=OperationType.CHARGE).count() == run.charges_made


def test_not_json_is_a_415(admin_api, group):
    before = db_state()
    answer = admin_api.post("/api/v1/subscribers/", "name=X", content_type="text/plain")
    assert answer.status_code == 415
    assert db_state() == before


def test_broken_json_is_a_400(admin_api):
    before = db_state()
    answer = admin_api.post("/api/v1/subscribers/", "{", content_type="application/json")
    assert answer.status_code == 400 and answer.json()["type"].endswith("/invalid")
    assert db_state() == before
