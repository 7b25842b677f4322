"""Idempotency-Key: a retry gets the first answer; another request with the key is
refused; the answer and the POST's changes are kept together."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.api.models import IdempotentRequest
from asr_billing.finance.models import Account, Operation
from tests.conftest import db_state

pytestmark = pytest.mark.django_db
PAYMENTS = "/api/v1/payments/"


@pytest.fixture
def bank(db):
    from asr_billing.finance.models import PaymentOperator

    return PaymentOperator.objects.create(code="BANK", name="Bank")


def pay(client, key=None, **body):
    data = {"subscriber": "", "amount": "100.00", "operator": "BANK", "external_id": "e-1",
            **body}
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(PAYMENTS, data, format="json", **extra)


def test_a_retry_gets_the_first_answer(admin_api, subscriber, bank):
    first = pay(admin_api, "k-1", subscriber=subscriber.contract_number)
    assert first.status_code == 201, first.content
    again = pay(admin_api, "k-1", subscriber=subscriber.contract_number)
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert Operation.objects.filter(external_id="e-1").count() == 1
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("100.00")


def test_the_key_with_another_body_is_refused_and_changes_nothing(admin_api, subscriber, bank):
    pay(admin_api, "k-1", subscriber=subscriber.contract_number)
    before = db_state()
    other = pay(admin_api, "k-1", subscriber=subscriber.contract_number, external_id="e-2")
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert db_state() == before


def test_keys_belong_to_one_api_key(make_key, client_for, subscriber, bank):
    one, two = client_for(make_key("payments")), client_for(make_key("payments"))
    assert pay(one, "same", subscriber=subscriber.contract_number).status_code == 201
    # The same Idempotency-Key from another API key is another request.
    answer = pay(two, "same", subscriber=subscriber.contract_number, external_id="e-2")
    assert answer.status_code == 201
    assert "Idempotent-Replayed" not in answer


def test_a_refusal_is_kept_too(admin_api, bank):
    first = pay(admin_api, "k-2", subscriber="NO-SUCH")
    assert first.status_code == 404
    again = pay(admin_api, "k-2", subscriber="NO-SUCH")
    assert again.status_code == 404 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "кириллица"])
def test_a_bad_key_is_refused(admin_api, subscriber, bank, key):
    before = db_state()
    answer = pay(admin_api, key, subscriber=subscriber.contract_number)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert db_state() == before
    assert not IdempotentRequest.objects.exists()


def test_without_the_header_a_post_works_as_usual(admin_api, subscriber, bank):
    assert pay(admin_api, subscriber=subscriber.contract_number).status_code == 201
    # The payment itself is exactly once by (operator, external id): a retry answers 200.
    again = pay(admin_api, subscriber=subscriber.contract_number)
    assert again.status_code == 200
    assert Operation.objects.filter(external_id="e-1").count() == 1
    assert not IdempotentRequest.objects.exists()


def test_old_answers_are_forgotten(admin_api, subscriber, bank):
    from datetime import timedelta

    from django.utils import timezone

    pay(admin_api, "old", subscriber=subscriber.contract_number)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    pay(admin_api, "new", subscriber=subscriber.contract_number, external_id="e-2")
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]


def test_a_5xx_is_not_kept(admin_api, subscriber, bank, monkeypatch):
    from asr_billing.api.views import finance

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(finance, "payment_register", broken)
    answer = pay(admin_api, "k-5", subscriber=subscriber.contract_number)
    assert answer.status_code == 500
    assert "boom" not in answer.content.decode()
    assert not IdempotentRequest.objects.exists()
    monkeypatch.undo()
    assert pay(admin_api, "k-5", subscriber=subscriber.contract_number).status_code == 201
