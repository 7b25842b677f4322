"""collector_manager.collector_iptv_accept_list_get: the access list of the IPTV plug-in.

The client is carbonsoft's Elecard V-Cinema library (billing.c, reference §4.1): every five
minutes it GETs ``model=Collector&method1=collector_manager.collector_iptv_accept_list_get
&arg1={}&context=collector&psw=…`` (no format), keeps the body only when the status is 200
and cJSON_Parse gives an object, then lets an IP play a channel when the channel is in the
list under that IP, compared with strcasecmp.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from asr_billing.finance.services import charge_post
from asr_billing.subscribers.models import Subscriber, SubscriberService
from asr_billing.subscribers.service_common import local_today
from asr_billing.subscribers.services import subscriber_block
from asr_billing.tariffs.services import service_create

from .conftest import db_state
from .test_collector import open_session

# Exactly the plug-in's request (billing.c read_user_list).
PLUGIN_URL = ("/system_api/?model=Collector&method1=collector_manager."
              "collector_iptv_accept_list_get&arg1={}&context=collector&psw=collectortestpsw")


@pytest.fixture
def tv(db):
    basic = service_create(actor="test", name="TV Basic", fee=Decimal("249.00"),
                           channels="Первый канал\nРоссия 1\nNTV")
    sport = service_create(actor="test", name="TV Sport", fee=Decimal("99.00"),
                           channels="Матч ТВ\nntv")  # ntv repeats NTV for the plug-in
    static = service_create(actor="test", name="Static IP", fee=Decimal("150.00"))
    return {"basic": basic, "sport": sport, "static": static}


def connect(subscriber, service, *, since=-1, until=None):
    """A running service; ``since``/``until`` in days from today (until: first day off)."""
    today = local_today()
    SubscriberService.objects.create(
        subscriber=subscriber, service=service, enabled_on=today + timedelta(days=since),
        disabled_on=today + timedelta(days=until) if until is not None else None)


@pytest.fixture
def viewers(tv, make_subscriber, make_login, nas, tariff):
    basic, sport = tv["basic"], tv["sport"]
    paid = make_subscriber("Paid")
    make_login(paid, "paid", ip="10.20.30.11")
    connect(paid, basic)
    both = make_subscriber("Both packages")
    make_login(both, "both", ip="10.20.30.9")
    dynamic = make_login(both, "both-pppoe")  # the address comes from the open session
    open_session(dynamic, nas, sid="s9", ip="100.64.0.5")
    connect(both, sport)
    connect(both, basic, until=1)  # disconnected from tomorrow: still runs today
    debtor = make_subscriber("Debtor")
    charge_post(subscriber=debtor, amount=Decimal("600.00"), actor="test", tariff=tariff,
                period_start=local_today().replace(day=1), period_end=local_today())
    make_login(debtor, "debtor", ip="10.20.30.21")
    connect(debtor, basic)
    blocked = make_subscriber("Blocked")
    make_login(blocked, "blocked", ip="10.20.30.22")
    connect(blocked, basic)
    subscriber_block(subscriber=blocked, actor="test", reason="fraud")
    paused = make_subscriber("Paused")
    Subscriber.objects.filter(pk=paused.pk).update(voluntary_blocked=True)
    make_login(paused, "paused", ip="10.20.30.23")
    connect(paused, basic)
    later = make_subscriber("From tomorrow")
    make_login(later, "later", ip="10.20.30.24")
    connect(later, basic, since=1)
    gone = make_subscriber("Disconnected today")
    make_login(gone, "gone", ip="10.20.30.25")
    connect(gone, basic, since=-30, until=0)
    internet = make_subscriber("Static IP only")
    make_login(internet, "static", ip="10.20.30.26")
    connect(internet, tv["static"])
    make_login(paid, "paid-old", ip="10.20.30.27", enabled=False)
    make_login(paid, "paid-offline")  # no IP, no session
    assert Subscriber.objects.get(pk=debtor.pk).negbal is True
    return {"paid": paid, "both": both}


EXPECTED = {
    "10.20.30.9": ["Первый канал", "Россия 1", "NTV", "Матч ТВ"],
    "10.20.30.11": ["Первый канал", "Россия 1", "NTV"],
    "100.64.0.5": ["Первый канал", "Россия 1", "NTV", "Матч ТВ"],
}


def test_the_plugins_request_gets_a_json_object(client, viewers):
    response = client.get(PLUGIN_URL)
    assert (response.status_code, response["Content-Type"]) == (
        200, "application/json; charset=utf-8")
    assert response.json() == EXPECTED
    # IPs in address order (10.20.30.9 before 10.20.30.11), whatever the database.
    assert list(response.json()) == ["10.20.30.9", "10.20.30.11", "100.64.0.5"]
    assert client.get(PLUGIN_URL + "&format=json").content == response.content


def test_nobody_watches_an_empty_object(client, tv):
    response = client.get(PLUGIN_URL)
    assert (response.status_code, response.content) == (200, b"{}")


def test_xml_when_asked(client, viewers):
    body = client.get(PLUGIN_URL + "&format=xml").content.decode()
    assert '<item key="10.20.30.11"><item>Первый канал</item>' in body


def test_state_changes_apply_to_the_next_list(client, viewers):
    subscriber_block(subscriber=viewers["paid"], actor="test", reason="x")
    assert "10.20.30.11" not in client.get(PLUGIN_URL).json()


def test_one_query_whatever_the_number_of_viewers(client, viewers, make_subscriber,
                                                  make_login, tv):
    with CaptureQueriesContext(connection) as few:
        client.get(PLUGIN_URL)
    for n in range(10):
        viewer = make_subscriber(f"Viewer {n}")
        make_login(viewer, f"viewer{n}", ip=f"10.20.31.{n + 1}")
        connect(viewer, tv["basic"])
        connect(viewer, tv["sport"])
    with CaptureQueriesContext(connection) as many:
        answer = client.get(PLUGIN_URL).json()
    assert len(answer) == 13
    assert len(many.captured_queries) == len(few.captured_queries) == 1


METHOD = "model=Collector&method1=collector_manager.collector_iptv_accept_list_get"


@pytest.mark.parametrize("query, status, body", [
    ("arg1=[1]&context=collector&psw=collectortestpsw", 400,
     b'error: arg1 must be a JSON object such as {"nas_ip": "10.0.0.1"}\n'),
    ("arg1={}&context=web", 403,
     b"Method collector_manager.collector_iptv_accept_list_get is not available in "
     b"context=web"),
])
def test_refusals_are_not_200_so_the_plugin_keeps_its_list(client, viewers, query, status,
                                                          body):
    before = db_state()
    response = client.get(f"/system_api/?{METHOD}&{query}")
    assert (response.status_code, response.content) == (status, body)
    assert db_state() == before


def test_wrong_password_is_refused(client, viewers):
    response = client.get(PLUGIN_URL.replace("collectortestpsw", "nope"))
    assert (response.status_code, response.content) == (
        403, b"Access denied: wrong psw for context=collector")
