"""Result caps with limit/offset, and who may call: source IP, proxies, the API key."""

from __future__ import annotations

import pytest

from asr_billing.core.config import ConfigError, ConfigFile
from asr_billing.finance.models import Account
from asr_billing.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

KEY = "k3y-for-tests-0123456789"


@pytest.fixture
def twelve(group, tariff):
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(group=group, tariff=tariff, name=f"S{n:02d}", contract_number=f"T{n:04d}")
        for n in range(12)
    )
    Account.objects.bulk_create(Account(subscriber=s) for s in subscribers)
    return [s.pk for s in Subscriber.objects.order_by("pk")]


def names(body):
    return [row["fields"]["name"] for row in body["result"]]


def test_cap_limit_offset(rest, twelve, config_edit):
    config_edit("network", "api.rest.max_results", "5")
    _status, body = rest("Abonents", ("objects.filter", {"is_folder": 0}), fields=["name"])
    assert names(body) == ["S00", "S01", "S02", "S03", "S04"]
    _status, body = rest("Abonents", ("objects.all", None), fields=["name"], limit=3, offset=4)
    assert names(body) == ["S04", "S05", "S06"]
    _status, body = rest("Abonents", ("objects.all", None), fields=["name"], limit=50, offset=10)
    assert names(body) == ["S10", "S11"]
    _status, body = rest("Abonents", ("objects.all", None), fields=["name"], limit=50)
    assert names(body) == ["S00", "S01", "S02", "S03", "S04"]  # never above the cap
    _status, body = rest("Abonents", ("objects.all", None), ("order_by", ["-name"]),
                         fields=["name"], limit=2, offset=1)
    assert names(body) == ["S10", "S09"]
    _status, body = rest("Abonents", ("objects.all", None), ("count", None))
    assert body["result"] == 12  # count is not capped


def test_default_cap_is_1000(rest, group, tariff):
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(group=group, tariff=tariff, name="x", contract_number=f"C{n:05d}")
        for n in range(1001)
    )
    Account.objects.bulk_create(Account(subscriber=s) for s in subscribers)
    _status, body = rest("Abonents", ("objects.all", None), fields=["id"])
    assert len(body["result"]) == 1000
    assert body["result"][-1]["pk"] == subscribers[999].pk


def test_the_cap_and_key_are_validated(settings):
    settings.LANGUAGE_CODE = "en"  # this directory's english fixture sets requests' language
    config = ConfigFile.parse("")
    with pytest.raises(ConfigError, match="must be a whole number from 1 to 1000000"):
        config.set("network", "api.rest.max_results", "0")
    with pytest.raises(ConfigError, match="16 to 256 characters"):
        config.set("network", "api.rest.key", "short")
    with pytest.raises(ConfigError, match="16 to 256 characters"):
        config.set("network", "api.rest.key", "spaces are not allowed in keys")
    config.set("network", "api.rest.key", KEY)
    config.set("network", "api.rest.key", "")


def test_source_ip_must_be_allowed(rest, subscriber, config_edit):
    status, body = rest("Abonents", ("objects.all", None), remote="10.9.9.9")
    assert (status, body) == (403, {"call": "/rest_api/v2/Abonents/", "error":
                                    "Access denied: 10.9.9.9 is not in network['api.allowed_ips']"})
    config_edit("network", "api.allowed_ips", "127.0.0.1 10.9.0.0/16")
    status, body = rest("Abonents", ("objects.all", None), remote="10.9.9.9")
    assert status == 200
    assert [row["pk"] for row in body["result"]] == [subscriber.pk]


def test_refused_ip_changes_nothing(rest, subscriber):
    status, _body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                         ("add_payment", {"SUM_IN": "100"}), remote="10.9.9.9")
    assert status == 403
    assert Account.objects.get(pk=subscriber.pk).balance == 0


def test_forwarded_for_counts_only_from_a_trusted_proxy(rest, subscriber, config_edit):
    config_edit("network", "api.allowed_ips", "10.1.1.1")
    forwarded = {"X-Forwarded-For": "10.1.1.1"}
    status, _body = rest("Abonents", ("objects.all", None), remote="127.0.0.1",
                         headers=forwarded)
    assert status == 403  # 127.0.0.1 is not a trusted proxy: the header is ignored
    config_edit("network", "api.trusted_proxies", "127.0.0.1")
    status, _body = rest("Abonents", ("objects.all", None), remote="127.0.0.1",
                         headers=forwarded)
    assert status == 200


def test_bearer_key(rest, client, subscriber, config_edit):
    config_edit("network", "api.rest.key", KEY)
    refusal = "Access denied: send the API key as Authorization: Bearer <key>"
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"},
                    {"Authorization": f"Basic {KEY}"}, {"Authorization": KEY}):
        status, body = rest("Abonents", ("objects.all", None), headers=headers)
        assert (status, body["error"]) == (403, refusal), headers
    status, body = rest("Abonents", ("objects.all", None),
                        headers={"Authorization": f"Bearer {KEY}"})
    assert status == 200
    assert [row["pk"] for row in body["result"]] == [subscriber.pk]
    assert client.get("/rest_api/v2/").status_code == 403
    response = client.get("/rest_api/v2/", headers={"Authorization": f"bearer {KEY}"})
    assert response.status_code == 200


def test_wrong_ip_is_refused_before_the_key(rest, config_edit):
    config_edit("network", "api.rest.key", KEY)
    status, body = rest("Abonents", ("objects.all", None), remote="10.9.9.9",
                        headers={"Authorization": f"Bearer {KEY}"})
    assert (status, body["error"]) == (
        403, "Access denied: 10.9.9.9 is not in network['api.allowed_ips']")


UNREADABLE = [
    # (content type, body, status, error); the settings shrink Django's limits
    ("application/x-www-form-urlencoded", b"method1=objects.count&x=" + b"a" * 2000, 413,
     "The request body is larger than 1000 bytes"),
    ("application/x-www-form-urlencoded",
     b"method1=objects.count&" + b"&".join(b"x%d=1" % n for n in range(60)), 400,
     "The request has more than 50 parameters"),
    ("application/x-www-form-urlencoded; charset=latin-1", b"method1=objects.count", 400,
     "The request body cannot be read: HTTP requests with the 'application/x-www-form-"
     "urlencoded' content type must be UTF-8 encoded."),
    ("multipart/form-data", b"junk", 400,
     "The request body cannot be read: Invalid boundary in multipart: None"),
]


@pytest.mark.parametrize(("content_type", "body", "status", "error"), UNREADABLE)
@pytest.mark.parametrize("loglevel", ["error", "info"])
def test_an_unreadable_body_is_the_callers_error(client, subscriber, settings, config_edit,
                                                  content_type, body, status, error, loglevel):
    # Django's refusals of a body were a 500 "Internal error" with a traceback in error.log,
    # or, with the call log on, Django's HTML "Bad Request (400)" page.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    config_edit("app", "django.loglevel", loglevel)
    response = client.post("/rest_api/v2/Abonents/", body, content_type=content_type)
    assert (response.status_code, response.json()) == (
        status, {"call": "/rest_api/v2/Abonents/", "error": error})
    assert Account.objects.get(pk=subscriber.pk).balance == 0
    if loglevel == "info":
        text = settings.ASR_HOME.system_api_log.read_text(encoding="utf-8")
        assert f"POST /rest_api/v2/Abonents/ [] {status} error: {error}" in text


def test_an_unreadable_body_from_a_refused_ip_is_refused_for_the_ip(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/rest_api/v2/Abonents/", b"x=" + b"a" * 2000,
                           content_type="application/x-www-form-urlencoded",
                           REMOTE_ADDR="10.9.9.9")
    assert (response.status_code, response.json()["error"]) == (
        403, "Access denied: 10.9.9.9 is not in network['api.allowed_ips']")
