"""/metrics: who may read it, the counted figures, the ones read from the database, and
the sum over gunicorn's workers under `asr-billing serve`."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def scrape(client=None, **extra) -> dict:
    answer = (client or Client()).get("/metrics", **extra)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(values: dict, name: str, **labels) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def test_only_the_allowed_addresses(config_edit):
    refused = Client().get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert refused.status_code == 403 and b"metrics.allowed_ips" in refused.content
    config_edit("app", "metrics.allowed_ips", "10.1.0.0/16")
    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert Client().get("/metrics").status_code == 403  # 127.0.0.1 is no longer in it


def test_requests_are_counted_by_group_and_status():
    before = scrape()
    client = Client()
    client.get("/health")
    client.get("/health")
    client.get("/api/v1/subscribers/")  # 401 without a key
    after = scrape()
    ok = dict(group="health", method="GET", status="200")
    assert value(after, "asr_http_requests_total", **ok) - \
        value(before, "asr_http_requests_total", **ok) == 2
    refused = dict(group="api_v1", method="GET", status="401")
    assert value(after, "asr_http_requests_total", **refused) - \
        value(before, "asr_http_requests_total", **refused) == 1
    assert value(after, "asr_http_request_duration_seconds_count", group="health") >= 2


def test_payments_by_operator_and_not_their_replays(subscriber, operator):
    before = scrape()
    for _ in range(2):  # the second is a replay of the first
        payment_register(subscriber=subscriber, amount=Decimal("100.50"), actor="t",
                         operator=operator, external_id="m-1")
    payment_register(subscriber=subscriber, amount=Decimal("9.50"), actor="t",
                     operator=operator, external_id="m-2")
    after = scrape()
    code = operator.code
    assert value(after, "asr_payments_total", operator=code) - \
        value(before, "asr_payments_total", operator=code) == 2
    assert value(after, "asr_payments_amount_roubles_total", operator=code) - \
        value(before, "asr_payments_amount_roubles_total", operator=code) == pytest.approx(110.0)


def test_figures_read_from_the_database(make_subscriber):
    from asr_billing.subscribers.services import subscriber_block

    subscriber_block(subscriber=make_subscriber(name="Blocked"), actor="t")
    make_subscriber(name="Active")
    values = scrape()
    assert value(values, "asr_subscribers", state="total") == Subscriber.objects.count()
    assert value(values, "asr_subscribers", state="admin_blocked") == \
        Subscriber.objects.filter(admin_blocked=True).count() == 1
    assert value(values, "asr_subscribers", state="active") == Subscriber.objects.filter(
        negbal=False, admin_blocked=False, voluntary_blocked=False).count()
    assert ("asr_sessions_open", ()) in values


@pytest.mark.slow
def test_a_served_billing_sums_every_worker(tmp_path):
    from tests.live_server import cli, http_get, serving

    home = tmp_path / "home"
    cli(home, "init", "--home", str(home), timeout=300)
    with serving(home, tmp_path / "serve.log", workers=3, seconds=60) as port:
        for _ in range(30):  # new connections: spread over the three workers
            assert http_get(port, "/health")[0] == 200
        status, text = http_get(port, "/metrics")
        assert status == 200
        found = re.search(r'^asr_http_requests_total\{group="health",method="GET",'
                          r'status="200"\} (\S+)$', text, re.M)
        assert found and float(found[1]) == 30, text[-2000:]
        assert (home / "var" / "metrics").is_dir()
