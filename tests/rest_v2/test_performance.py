"""A list costs a fixed number of SQL queries whatever its length (no query per row)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.finance.models import Account
from asr_billing.network.models import Login
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Tariff

pytestmark = pytest.mark.django_db

COUNT = 10_000


@pytest.fixture
def many(group, tariff, nas, config_edit):
    config_edit("network", "api.rest.max_results", str(COUNT * 2))
    other = Tariff.objects.create(name="Other", fee=Decimal("1.00"))
    subscribers = Subscriber.objects.bulk_create(
        (Subscriber(group=group, tariff=tariff if n % 2 else other, name=f"S{n}",
                    contract_number=f"P{n:06d}") for n in range(COUNT)),
        batch_size=2000,
    )
    Account.objects.bulk_create((Account(subscriber=s, balance=Decimal(n % 500))
                                 for n, s in enumerate(subscribers)), batch_size=2000)
    Login.objects.bulk_create((Login(subscriber=s, login=f"l{n}", nas=nas)
                               for n, s in enumerate(subscribers[:2000])), batch_size=2000)
    return subscribers


def test_tariff_name_and_account_over_10000(rest, many, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        status, body = rest("Abonents", ("objects.filter", {"is_folder": 0}),
                            fields=["tarif__name", "account"])
    assert status == 200
    rows = body["result"]
    assert len(rows) == COUNT
    assert rows[1]["fields"]["tarif"]["fields"] == {"name": "Home 100"}
    assert rows[1]["fields"]["account"]["fields"]["balance"] == "1.00"
    assert rows[2]["fields"]["tarif"]["fields"] == {"name": "Other"}


def test_default_fields_over_10000(rest, many, django_assert_max_num_queries):
    VoluntaryBlock.objects.create(subscriber=many[5], start_date="2999-01-01",
                                  end_date="2999-01-10")
    # the list, voluntary blocks, promised payments
    with django_assert_max_num_queries(3):
        _status, body = rest("Abonents", ("objects.all", None))
    assert len(body["result"]) == COUNT
    assert body["result"][5]["fields"]["own_disabled_start"] == "2999-01-01"
    assert body["result"][5]["fields"]["minimal_pay_sum"] == "0.00"


def test_reverse_relations_over_10000(rest, many, django_assert_max_num_queries):
    # the list, then one query per reverse relation level
    with django_assert_max_num_queries(3):
        _status, body = rest("Abonents", ("objects.all", None),
                            fields=["users__login", "users__nas__ip", "parent__name"])
    assert len(body["result"]) == COUNT
    assert body["result"][0]["fields"]["users"][0]["fields"]["nas"]["fields"] == {
        "ip": "10.0.0.1"}
    assert body["result"][COUNT - 1]["fields"]["users"] == []


def test_logins_with_subscriber_data(rest, many, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        _status, body = rest("Users", ("objects.all", None))
    assert len(body["result"]) == 2000
    assert body["result"][0]["fields"]["ostatok"] == "0.00"
