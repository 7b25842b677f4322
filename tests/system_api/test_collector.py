"""collector_manager: users_negbal, users_blocked, users_logged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.finance.services import charge_post
from asr_billing.network.models import OnlineSession
from asr_billing.network.services import login_update, nas_create
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_block
from asr_billing.system_api.collector import LINE_KEYS as HEADER
from asr_billing.tariffs.models import Tariff

from .conftest import db_state, url


def open_session(login, nas, sid="s1", ip=None):
    now = timezone.now()
    return OnlineSession.objects.create(
        login=login, nas=nas, acct_session_id=sid, ip=ip, started_at=now, updated_at=now
    )


@pytest.fixture
def shaped_tariff(db):
    return Tariff.objects.create(
        name="Shaped 50", fee=Decimal("500.00"), rate_in=50000, ceil_in=60000, burst_in=100,
        cburst_in=200, rate_out=20000, ceil_out=25000, burst_out=50, cburst_out=75,
    )


@pytest.fixture
def network(db, nas, make_subscriber, make_login, shaped_tariff, tariff):
    """NAS 10.0.0.1 with one login in each state, plus a NAS 10.0.0.2 login."""
    other_nas = nas_create(name="NAS 2", ip="10.0.0.2", actor="test")
    debtor = make_subscriber(name="Debtor", tariff=shaped_tariff)
    charge_post(subscriber=debtor, amount=Decimal("500.00"), actor="test", tariff=shaped_tariff,
                period_start=date(2024, 5, 1), period_end=date(2024, 5, 31))
    debtor_login = make_login(debtor, "debtor", ip="10.20.30.1", mac="00:1A:2B:3C:4D:5E",
                              snat_ip="198.51.100.7")
    blocked = make_subscriber(name="Blocked")
    subscriber_block(subscriber=blocked, actor="test", reason="fraud")
    blocked_login = make_login(blocked, "blocked1", ip="10.20.30.2")
    paused = make_subscriber(name="Paused")
    Subscriber.objects.filter(pk=paused.pk).update(voluntary_blocked=True)
    paused_login = make_login(paused, "paused1", ip="10.20.30.3")
    online = make_subscriber(name="Online")
    online_login = make_login(online, "online1", ip="10.20.30.4")
    open_session(online_login, nas)
    dynamic_login = make_login(online, "online2")  # PPPoE, address from the session
    open_session(dynamic_login, nas, sid="s2", ip="100.64.0.9")
    closed = make_login(online, "offline1", ip="10.20.30.5")
    finished = open_session(closed, nas, sid="s3")
    OnlineSession.objects.filter(pk=finished.pk).update(stopped_at=timezone.now())
    elsewhere = make_subscriber(name="Elsewhere")
    Subscriber.objects.filter(pk=elsewhere.pk).update(admin_blocked=True)
    make_login(elsewhere, "elsewhere", ip="10.30.0.1", nas=other_nas)
    disabled = make_login(blocked, "blocked-old", ip="10.20.30.2", enabled=False)
    return {"debtor": debtor_login, "blocked": blocked_login, "paused": paused_login,
            "online": online_login, "dynamic": dynamic_login, "disabled": disabled}


def lines(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert text == "" or text.endswith("\n")
    rows = [line.split(" ") for line in text.splitlines()]
    assert all(len(row) == 16 for row in rows)
    return rows


def test_users_negbal_exact_line(call_api, network):
    response = call_api("collector_manager.users_negbal", {"nas_ip": "10.0.0.1"},
                        context="collector")
    assert response.content.decode() == (
        "10.20.30.1 debtor 198.51.100.7 00:1a:2b:3c:4d:5e 0 1 0 "
        "50000 60000 100 20000 25000 50 10.0.0.1 200 75\n"
    )


def test_users_blocked_admin_and_voluntary(call_api, network):
    rows = lines(call_api("collector_manager.users_blocked", {"nas_ip": "10.0.0.1"},
                          context="collector"))
    assert [row[1] for row in rows] == ["blocked1", "paused1"]
    # Missing values are "None" so the columns never shift; the fixture tariff has no
    # burst/cburst, so those four columns are "None" too.
    assert rows[0] == ["10.20.30.2", "blocked1", "None", "None", "0", "0", "1",
                       "100000", "100000", "None", "50000", "50000", "None", "10.0.0.1",
                       "None", "None"]


def test_users_logged_with_session_ip_fallback(call_api, network):
    rows = lines(call_api("collector_manager.users_logged", {"nas_ip": "10.0.0.1"},
                          context="collector"))
    assert [(row[0], row[1], row[4]) for row in rows] == [
        ("10.20.30.4", "online1", "1"),
        ("100.64.0.9", "online2", "1"),
    ]


def test_json_format_has_the_16_keys(call_api, network):
    response = call_api("collector_manager.users_negbal", {"nas_ip": "10.0.0.1"},
                        context="collector", fmt="json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == [{
        "ip": "10.20.30.1", "login": "debtor", "snatip": "198.51.100.7",
        "mac": "00:1a:2b:3c:4d:5e", "logged": 0, "negbal": 1, "blocked": 0,
        "rate_in": 50000, "ceil_in": 60000, "burst_in": 100, "rate_out": 20000,
        "ceil_out": 25000, "burst_out": 50, "nas_ip": "10.0.0.1", "cburst_in": 200,
        "cburst_out": 75,
    }]
    assert tuple(response.json()[0]) == HEADER


def test_json_missing_values_are_null(call_api, network):
    rows = call_api("collector_manager.users_logged", {"nas_ip": "10.0.0.1"},
                    context="collector", fmt="json").json()
    assert rows[1]["snatip"] is None and rows[1]["mac"] is None


def test_other_nas_and_unknown_nas(call_api, network):
    rows = lines(call_api("collector_manager.users_blocked", {"nas_ip": "10.0.0.2"},
                          context="collector"))
    assert [row[1] for row in rows] == ["elsewhere"]
    response = call_api("collector_manager.users_blocked", {"nas_ip": "192.0.2.99"},
                        context="collector")
    assert response.status_code == 200 and response.content == b""
    assert call_api("collector_manager.users_logged", {"nas_ip": "192.0.2.99"},
                    context="collector", fmt="json").json() == []


def test_moving_a_login_to_another_nas_moves_it_between_lists(call_api, network):
    other = network["debtor"].subscriber.logins.first()
    from asr_billing.network.models import Nas

    login_update(login=other, nas=Nas.objects.get(ip="10.0.0.2"), actor="test")
    assert call_api("collector_manager.users_negbal", {"nas_ip": "10.0.0.1"},
                    context="collector").content == b""


@pytest.mark.parametrize("arg1, text", [
    ({"nas_ip": "10.0.0.300"}, "nas_ip: 10.0.0.300 is not an IP address"),
    ({"nas_ip": "nas1"}, "nas_ip: nas1 is not an IP address"),
    ({}, "Argument nas_ip is required"),
    ({"nas_ip": ""}, "Argument nas_ip is required"),
    ({"nas_ip": ["10.0.0.1"]}, "Argument nas_ip must be a string"),
    # A zone id names an interface of one host, never a NAS (no NAS can be stored with
    # one): an error, not an empty list that looks like "nobody is blocked".
    ({"nas_ip": "fe80::1%eth0"}, "nas_ip: fe80::1%eth0 is not an IP address"),
])
def test_malformed_nas_ip(call_api, network, arg1, text):
    before = db_state()
    response = call_api("collector_manager.users_negbal", arg1, context="collector")
    # Plain text: HTTP 400 and one "error:" line, so a script never mistakes it for a list.
    assert response.status_code == 400
    assert response.content.decode() == f"error: {text}\n"
    response = call_api("collector_manager.users_negbal", arg1, context="collector", fmt="json")
    assert response.status_code == 200
    assert response.json() == {"error": text}
    assert db_state() == before


def test_error_with_format_xml_is_xml(call_api, network):
    # As the list itself: text only when no format (or format=text) is asked for.
    response = call_api("collector_manager.users_negbal", {"nas_ip": "nas1"},
                        context="collector", fmt="xml")
    assert (response.status_code, response["Content-Type"]) == (
        200, "application/xml; charset=utf-8")
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<response><error>nas_ip: nas1 is not an IP address</error></response>\n")
    text = call_api("collector_manager.users_negbal", {"nas_ip": "nas1"},
                    context="collector", fmt="text")
    assert (text.status_code, text.content) == (400, b"error: nas_ip: nas1 is not an IP address\n")


def test_ipv4_mapped_nas_ip_is_the_ipv4_nas(call_api, network):
    # NAS addresses are stored as IPv4 (network.services.normalize_ip); a dual-stack
    # script may name its own address in the mapped form.
    mapped = call_api("collector_manager.users_blocked", {"nas_ip": "::ffff:10.0.0.2"},
                      context="collector")
    assert [row[1] for row in lines(mapped)] == ["elsewhere"]


def test_ipv6_nas_is_normalised(call_api, db, make_subscriber, make_login):
    nas6 = nas_create(name="v6", ip="2001:db8::1", actor="test")
    subscriber = make_subscriber()
    subscriber_block(subscriber=subscriber, actor="test")
    make_login(subscriber, "v6user", ip="2001:db8:1::10", nas=nas6)
    rows = lines(call_api("collector_manager.users_blocked", {"nas_ip": "2001:DB8:0::1"},
                          context="collector"))
    assert [row[:2] for row in rows] == [["2001:db8:1::10", "v6user"]]


@pytest.mark.parametrize("kind", ["users_negbal", "users_blocked", "users_logged"])
def test_one_query_whatever_the_size(django_assert_num_queries, network, kind, nas,
                                     make_subscriber, make_login, rf):
    from asr_billing.system_api.collector import _list
    from asr_billing.system_api.params import Args, Call

    for i in range(30):
        subscriber = make_subscriber(name=f"Bulk {i}")
        Subscriber.objects.filter(pk=subscriber.pk).update(negbal=True, admin_blocked=True)
        login = make_login(subscriber, f"bulk{i:02d}", ip=f"10.40.0.{i + 1}")
        open_session(login, nas, sid=f"bulk{i}")
    call = Call(method=f"collector_manager.{kind}", context="collector",
                args=Args({"nas_ip": "10.0.0.1"}), source_ip="127.0.0.1")
    # Each form of the answer is one query: the text (built by PostgreSQL, or joined in
    # Python from the rows elsewhere) and the rows for JSON/XML.
    with django_assert_num_queries(1):
        text = _list(call, kind.split("_")[1]).text()
    with django_assert_num_queries(1):
        rows = _list(call, kind.split("_")[1]).rows
    assert len(rows) >= 30
    assert len(text.splitlines()) == len(rows)


def test_full_request_is_one_query(client, network, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(url("collector_manager.users_blocked", {"nas_ip": "10.0.0.1"},
                                  context="collector"))
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["users_negbal", "users_blocked", "users_logged"])
def test_text_and_json_agree(call_api, network, kind):
    text = call_api(f"collector_manager.{kind}", {"nas_ip": "10.0.0.1"},
                    context="collector").content.decode().splitlines()
    rows = call_api(f"collector_manager.{kind}", {"nas_ip": "10.0.0.1"}, context="collector",
                    fmt="json").json()
    assert text == [" ".join("None" if row[key] is None else str(row[key]) for key in HEADER)
                    for row in rows]


@pytest.mark.parametrize("kind", ["negbal", "blocked", "logged"])
def test_database_text_is_the_python_text(network, kind):
    """The database formats the text answer; it must equal the lines Python formats from
    the rows, byte for byte (IPv6, missing values, the session IP fallback)."""
    from asr_billing.system_api.collector import PLACEHOLDER, line
    from asr_billing.system_api.selectors import collector_rows, collector_text

    python_text = "".join(line(r) + "\n" for r in collector_rows(nas_ip="10.0.0.1", kind=kind))
    assert python_text
    assert collector_text(nas_ip="10.0.0.1", kind=kind, placeholder=PLACEHOLDER) == python_text
    assert collector_text(nas_ip="10.9.9.9", kind=kind, placeholder=PLACEHOLDER) == ""
