"""Exactly once through the API under concurrency (PostgreSQL: real row locks)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client

from asr_billing.finance.models import Account, Operation, PaymentOperator
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.subscribers.services import subscriber_create
from tests.conftest import requires_postgres

from .conftest import url

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
THREADS = 12


def run_at_once(address: str) -> list:
    barrier = threading.Barrier(THREADS)
    answers: list = [None] * THREADS

    def worker(i: int) -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.get(address)
            answers[i] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_same_payment_from_many_connections_posts_once(config_edit):
    group = Group.objects.create(name="g")
    subscriber = subscriber_create(name="Payer", group=group, actor="t")
    PaymentOperator.objects.create(code="SBERBANK_OSMP", name="Sber")
    answers = run_at_once(url(
        "asr_fiscal_manager.act_pay",
        {"contract_number": subscriber.contract_number, "sum_in": "100", "act": "PAY",
         "pay_operator": "SBERBANK_OSMP", "pay_id_str": "race-1"},
        context="asr_fiscal", fmt="json"))
    assert all(status == 200 for status, _ in answers)
    operation = Operation.objects.get()
    assert {body["operation_id"] for _, body in answers} == {operation.pk}
    assert sorted(body["replay"] for _, body in answers) == [False] + [True] * (THREADS - 1)
    assert {body["balance"] for _, body in answers} == {"100.00"}
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("100.00")


def test_create_abonent_from_many_connections_creates_once(config_edit):
    Group.objects.create(name="root")
    answers = run_at_once(url("api_1c_manager.api_1c_create_abonent",
                              {"code1c": "race-code", "name": "Гонка"},
                              context="api_1c", fmt="json"))
    assert all(status == 200 for status, _ in answers), answers
    subscriber = Subscriber.objects.get()
    assert {body["pk"] for _, body in answers} == {subscriber.pk}
    assert sorted(body["created"] for _, body in answers) == [False] * (THREADS - 1) + [True]


def test_import_1c_payment_from_many_connections_posts_once(config_edit):
    group = Group.objects.create(name="g")
    subscriber = subscriber_create(name="Payer", group=group, actor="t", code1c="K-9")
    answers = run_at_once(url("api_1c_manager.api_1c_sync_fin_oper",
                              {"abon_code1c": "K-9", "op_date": "2023-03-15", "op_summa": "50",
                               "code1c": "2023_race", "op_type_id": "2"},
                              context="api_1c", fmt="json"))
    assert all(status == 200 for status, _ in answers), answers
    operation = Operation.objects.get()
    assert {body["op_id"] for _, body in answers} == {operation.pk}
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("50.00")
