"""Concurrent POSTs against a real PostgreSQL: one Idempotency-Key, one effect."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from asr_billing.api.keys import apikey_create
from asr_billing.api.models import IdempotentRequest
from asr_billing.finance.models import Account, Operation, PaymentOperator
from tests.conftest import requires_postgres
from tests.finance.test_concurrency import assert_chain, run_together

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
THREADS = 12


def test_one_idempotency_key_sent_at_once_pays_once(subscriber):
    PaymentOperator.objects.create(code="BANK", name="Bank")
    key = apikey_create(name="storm", scopes=["payments"], actor="t", rate_per_minute=0).key
    body = {"subscriber": subscriber.contract_number, "amount": "25.00", "operator": "BANK",
            "external_id": "same-id"}

    def post(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        answer = client.post("/api/v1/payments/", body, format="json",
                             HTTP_IDEMPOTENCY_KEY="one-key")
        return answer.status_code, answer.json()["id"]

    results = run_together(THREADS, post)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {status for status, _ in results} == {201}
    assert len({pk for _, pk in results}) == 1
    assert Operation.objects.filter(external_id="same-id").count() == 1
    assert IdempotentRequest.objects.count() == 1
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("25.00")


def test_distinct_payments_at_once_are_all_posted_exactly(subscriber):
    PaymentOperator.objects.create(code="BANK", name="Bank")
    key = apikey_create(name="storm", scopes=["payments"], actor="t", rate_per_minute=0).key

    def post(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        body = {"subscriber": subscriber.contract_number, "amount": "1.10", "operator": "BANK",
                "external_id": f"id-{i % 6}"}  # each id sent twice
        return client.post("/api/v1/payments/", body, format="json",
                           HTTP_IDEMPOTENCY_KEY=f"k-{i}").status_code

    results = run_together(THREADS, post)
    assert sorted(results) == [200] * 6 + [201] * 6
    assert Operation.objects.filter(external_id__startswith="id-").count() == 6
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("6.60")
    assert_chain(subscriber.pk)


def test_the_rate_limit_holds_across_connections(subscriber):
    key = apikey_create(name="limited", scopes=["read"], actor="t", rate_per_minute=5).key

    def get(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client.get("/api/v1/tariffs/").status_code

    results = run_together(THREADS, get)
    # All in one minute: exactly the limit (split across two minutes: at most twice it).
    assert 5 <= results.count(200) <= 10
    assert results.count(429) == THREADS - results.count(200)
