"""POST /radius/authorize/: the decision through the wire, exact answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError

from asr_billing.network.models import RadiusAuthLog
from asr_billing.network.services import login_update
from asr_billing.subscribers.models import Subscriber
from tests.conftest import ACTOR, db_state
from tests.radius.conftest import rlm_body

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DECIDED = 1767225600  # NOW in Unix seconds


def v(value):
    return {"value": value, "do_xlat": False}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def mikrotik(nas):
    nas.nas_type = "mikrotik"
    nas.save()
    return nas


@pytest.fixture
def bob(subscriber, make_login):
    return make_login(subscriber, "bob", password="hello123")


def pap(name="bob", password="hello123", **more):  # noqa: S107
    return {"User-Name": name, "User-Password": password, "NAS-IP-Address": "10.0.0.1",
            "Service-Type": "Framed-User", **more}


def reject(message, reason):
    return {"reply:Reply-Message": v(message), "request:Module-Failure-Message": v(reason)}


def accepted(bob, **rates):
    return {
        "control:Auth-Type": v("Accept"),
        "reply:Acct-Interim-Interval": v("300"),
        "reply:Class": v(f"asr1:{bob.pk}:{DECIDED}"),
        **{f"reply:{name}": v(value) for name, value in rates.items()},
    }


def test_pap_accept_mikrotik(radius, mikrotik, bob):
    response = radius.post("authorize", pap())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "control:Auth-Type": v("Accept"),
        "reply:Acct-Interim-Interval": v("300"),
        "reply:Class": v(f"asr1:{bob.pk}:{DECIDED}"),
        "reply:Mikrotik-Rate-Limit": v("50M/100M"),
    }


def test_pap_accept_accel_ppp_with_static_ip_and_session_timeout(
    radius, nas, bob, config_edit
):
    nas.nas_type = "accel-ppp"
    nas.save()
    login_update(login=bob, actor=ACTOR, ip="100.64.0.5")
    config_edit("radius", "session_timeout", "86400")
    config_edit("radius", "interim_interval", "600")
    assert radius.post("authorize", pap()).json() == {
        "control:Auth-Type": v("Accept"),
        "reply:Framed-IP-Address": v("100.64.0.5"),
        "reply:Acct-Interim-Interval": v("600"),
        "reply:Session-Timeout": v("86400"),
        "reply:Class": v(f"asr1:{bob.pk}:{DECIDED}"),
        "reply:Filter-Id": v("100000/50000"),
    }


def test_pap_accept_cisco(radius, nas, bob):
    nas.nas_type = "cisco"
    nas.save()
    assert radius.post("authorize", pap()).json() == accepted(
        bob, **{"Cisco-Account-Info": "QU;50000000;9375000;18750000;D;100000000;18750000;37500000"}
    )


def test_unshaped_nas_types_and_no_tariff(radius, nas, bob, subscriber):
    assert radius.post("authorize", pap()).json() == accepted(bob)  # nas_type "other"
    nas.nas_type = "mikrotik"
    nas.save()
    Subscriber.objects.filter(pk=subscriber.pk).update(tariff=None)
    assert radius.post("authorize", pap()).json() == accepted(bob)


def test_pap_wrong_password(radius, mikrotik, bob):
    before = db_state()
    response = radius.post("authorize", pap(password="wrong"))
    assert response.status_code == 401
    assert response.json() == reject("Wrong login or password.", "asr: wrong password")
    assert db_state() == before
    assert RadiusAuthLog.objects.count() == 0  # a read: post-auth writes refusals


@pytest.mark.parametrize("attribute", ["CHAP-Password", "MS-CHAP2-Response", "MS-CHAP-Response"])
def test_challenge_gets_the_cleartext(radius, mikrotik, bob, attribute):
    body = {"User-Name": "bob", "NAS-IP-Address": "10.0.0.1", attribute: "0x0102030405",
            "CHAP-Challenge": "0x0a0b0c0d", "MS-CHAP-Challenge": "0x0a0b0c0d"}
    response = radius.post("authorize", body)
    assert response.status_code == 200
    assert response.json() == {
        "control:Cleartext-Password": v("hello123"),
        "reply:Acct-Interim-Interval": v("300"),
        "reply:Class": v(f"asr1:{bob.pk}:{DECIDED}"),
        "reply:Mikrotik-Rate-Limit": v("50M/100M"),
    }


def test_password_with_percent_and_quote_is_sent_unexpanded(radius, mikrotik, subscriber,
                                                            make_login):
    make_login(subscriber, "carol", password='p%{User-Name}"1')
    body = {"User-Name": "carol", "NAS-IP-Address": "10.0.0.1", "CHAP-Password": "0x01"}
    answer = radius.post("authorize", body).json()
    assert answer["control:Cleartext-Password"] == v('p%{User-Name}"1')


def test_ipoe_by_ip(radius, mikrotik, bob):
    login_update(login=bob, actor=ACTOR, ip="100.64.0.7")
    body = {"User-Name": "00:11:22:33:44:55", "NAS-IP-Address": "10.0.0.1",
            "Framed-IP-Address": "100.64.0.7", "Calling-Station-Id": "00:11:22:33:44:55"}
    assert radius.post("authorize", body).json() == accepted(
        bob, **{"Framed-IP-Address": "100.64.0.7", "Mikrotik-Rate-Limit": "50M/100M"}
    ) | {"reply:Framed-IP-Address": v("100.64.0.7")}
    body["Framed-IP-Address"] = "100.64.0.8"
    response = radius.post("authorize", body)
    assert response.status_code == 401
    assert response.json() == reject("This connection is not registered. Please contact support.",
                                     "asr: unknown device (IP 100.64.0.8)")


def test_ipoe_by_mac(radius, mikrotik, bob):
    mikrotik.ipoe_match = "mac"
    mikrotik.save()
    login_update(login=bob, actor=ACTOR, mac="00:1a:2b:3c:4d:5e")
    # Cisco's dotted notation, upper case: normalized before the lookup.
    body = {"User-Name": "001A.2B3C.4D5E", "NAS-IP-Address": "10.0.0.1",
            "Calling-Station-Id": "001A.2B3C.4D5E"}
    assert radius.post("authorize", body).json() == accepted(
        bob, **{"Mikrotik-Rate-Limit": "50M/100M"})
    body["Calling-Station-Id"] = "not a mac"
    assert radius.post("authorize", body).json() == reject(
        "This connection is not registered. Please contact support.",
        "asr: unknown device (no MAC in Calling-Station-Id)")


NO_MONEY_MIKROTIK = {
    "reply:Acct-Interim-Interval": v("300"),
    "reply:Framed-Pool": v("negbal"),
    "reply:Mikrotik-Address-List": v("negbal"),
    "reply:Mikrotik-Rate-Limit": v("256k/256k"),
    "reply:Session-Timeout": v("300"),
}
STATES = [
    ("negbal", "Not enough money on your account. Please top it up."),
    ("admin_blocked", "Your account is blocked. Please contact support."),
    ("voluntary_blocked", "Your account is on a voluntary block."),
]


@pytest.mark.parametrize(("flag", "message"), STATES)
def test_state_redirect(radius, mikrotik, bob, subscriber, config_edit, flag, message):
    config_edit("radius", "policy." + flag, "redirect")
    config_edit("radius", "session_timeout", "3600")  # the no money profile's wins
    login_update(login=bob, actor=ACTOR, ip="100.64.0.5")
    Subscriber.objects.filter(pk=subscriber.pk).update(**{flag: True})
    response = radius.post("authorize", pap())
    assert response.status_code == 200
    # The pool drops the static address: it would bypass the redirect.
    assert response.json() == {
        "control:Auth-Type": v("Accept"), "reply:Class": v(f"asr1:{bob.pk}:{DECIDED}:n"),
        **NO_MONEY_MIKROTIK,
    }
    # Paid (or unblocked): the next request gets full service.
    Subscriber.objects.filter(pk=subscriber.pk).update(**{flag: False})
    assert radius.post("authorize", pap()).json()["reply:Mikrotik-Rate-Limit"] == v("50M/100M")


@pytest.mark.parametrize(("flag", "message"), STATES)
def test_state_reject(radius, mikrotik, bob, subscriber, config_edit, flag, message):
    config_edit("radius", "policy." + flag, "reject")
    Subscriber.objects.filter(pk=subscriber.pk).update(**{flag: True})
    response = radius.post("authorize", pap())
    assert response.status_code == 401
    assert response.json() == reject(message, "asr: " + flag.replace("_", "-"))


def test_any_rejecting_state_wins(radius, mikrotik, bob, subscriber, config_edit):
    config_edit("radius", "policy.negbal", "redirect")
    config_edit("radius", "policy.voluntary_blocked", "reject")
    Subscriber.objects.filter(pk=subscriber.pk).update(negbal=True, voluntary_blocked=True)
    assert radius.post("authorize", pap()).json() == reject(
        "Your account is on a voluntary block.", "asr: voluntary-blocked")


def test_no_money_static_ip_kept_without_pool(radius, mikrotik, bob, subscriber, config_edit):
    config_edit("radius", "no_money.pool", "")
    login_update(login=bob, actor=ACTOR, ip="100.64.0.5")
    Subscriber.objects.filter(pk=subscriber.pk).update(negbal=True)
    answer = radius.post("authorize", pap()).json()
    assert answer["reply:Framed-IP-Address"] == v("100.64.0.5")
    assert "reply:Framed-Pool" not in answer
    assert answer["reply:Mikrotik-Address-List"] == v("negbal")


def test_wrong_password_is_refused_before_the_state_is_told(radius, mikrotik, bob, subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(admin_blocked=True)
    assert radius.post("authorize", pap(password="x")).json() == reject(
        "Wrong login or password.", "asr: wrong password")


def test_disabled_login(radius, mikrotik, bob):
    login_update(login=bob, actor=ACTOR, enabled=False)
    response = radius.post("authorize", pap())
    assert response.status_code == 401
    assert response.json() == reject("This login is disabled.", "asr: login disabled")


def test_unknown_login(radius, mikrotik, bob):
    response = radius.post("authorize", pap(name="nobody"))
    assert response.status_code == 401
    assert response.json() == reject("Wrong login or password.", "asr: unknown login")


def test_login_on_another_nas(radius, mikrotik, bob):
    from asr_billing.network.services import nas_create

    other = nas_create(name="NAS 2", ip="10.0.0.2", actor=ACTOR, nas_type="mikrotik")
    response = radius.post("authorize", pap(**{"NAS-IP-Address": "10.0.0.2"}))
    assert response.status_code == 401
    assert response.json() == reject("This login may not connect through this access server.",
                                     f"asr: login belongs to NAS {mikrotik.pk}")
    # A login without a NAS may use any.
    login_update(login=bob, actor=ACTOR, nas=None)
    answer = radius.post("authorize", pap(**{"NAS-IP-Address": "10.0.0.2"})).json()
    assert answer["control:Auth-Type"] == v("Accept")
    assert other.pk != mikrotik.pk


def test_unknown_nas_and_the_source_address_fallback(radius, mikrotik, bob):
    response = radius.post("authorize", pap(**{"NAS-IP-Address": "10.9.9.9"}))
    assert response.status_code == 401
    assert response.json() == reject(
        "This access server is not registered with the billing.", "asr: unknown NAS 10.9.9.9")
    # No NAS-IP-Address: the NAS is found by the source FreeRADIUS passes on.
    body = pap()
    del body["NAS-IP-Address"]
    assert radius.post("authorize", body, x_radius_client="10.0.0.1").status_code == 200
    # A NAS-IP-Address that is not ours (a NAS behind NAT): the source decides too.
    answer = radius.post("authorize", pap(**{"NAS-IP-Address": "192.168.1.1"}),
                         x_radius_client="10.0.0.1")
    assert answer.status_code == 200
    response = radius.post("authorize", body, x_radius_client="10.7.7.7")
    assert response.json() == reject(
        "This access server is not registered with the billing.", "asr: unknown NAS 10.7.7.7")
    assert radius.post("authorize", body).json() == reject(
        "This access server is not registered with the billing.", "asr: unknown NAS -")


@pytest.mark.parametrize("name", ['bo"b', "боб", "b" * 10_000, "", "bob\x00", "%{User-Name}"])
def test_odd_names_are_refused_cleanly(radius, mikrotik, bob, name):
    before = db_state()
    response = radius.post("authorize", pap(name=name))
    assert response.status_code == 401
    assert response.json() == reject("Wrong login or password.", "asr: unknown login")
    assert db_state() == before


def test_unknown_attributes_are_ignored(radius, mikrotik, bob):
    body = json.loads(rlm_body(pap()))
    body["X-Unknown"] = "not even the shape"
    body["Vendor-1234-Attr-5"] = {"type": "octets", "value": ["0x00"]}
    body["Cisco-AVPair"] = {"type": "string", "value": ["a=1", "b=2"]}
    response = radius.post("authorize", raw=json.dumps(body))
    assert response.status_code == 200
    assert response.json()["control:Auth-Type"] == v("Accept")


@pytest.mark.parametrize(("raw", "error"), [
    ("{not json", "the body is not JSON"),
    (b"\xff\xfe", "the body is not JSON"),
    ('["User-Name"]', "the body is not a JSON object of attributes"),
    ('{"User-Name": "bob"}', 'User-Name: not {"type": …, "value": [...]}'),
    ('{"User-Name": {"type": "string", "value": "bob"}}',
     'User-Name: not {"type": …, "value": [...]}'),
    ('{"User-Name": {"type": "integer", "value": [5]}}', "User-Name: not a string"),
    ("[" * 100_000 + "]" * 100_000, "the body is not JSON"),
    ("", "the body is not JSON"),
])
def test_malformed_bodies_are_400(radius, mikrotik, bob, raw, error):
    response = radius.post("authorize", raw=raw)
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_auth_failures(radius, mikrotik, bob, config_edit):
    body = pap()
    assert radius.post("authorize", body, token=None).status_code == 401
    response = radius.post("authorize", body, token="wrong-token-0123456789")
    assert response.status_code == 401
    assert response.json() == {"reply:Reply-Message": v("The billing is not available now.")}
    assert radius.post("authorize", body, remote="192.0.2.1").status_code == 403
    config_edit("radius", "api.allowed_ips", "192.0.2.0/24")
    assert radius.post("authorize", body, remote="192.0.2.1").status_code == 200
    assert radius.post("authorize", body).status_code == 403  # 127.0.0.1 no longer listed
    config_edit("radius", "api.token", "")
    assert radius.post("authorize", body, remote="192.0.2.1", token="").status_code == 401
    assert radius.post("authorize", body, remote="192.0.2.1").status_code == 401


def test_get_is_refused(radius):
    response = radius.get("authorize")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_database_error_is_503(radius, mikrotik, bob):
    with mock.patch("asr_billing.radius.views.radius_authorize",
                    side_effect=OperationalError("server closed the connection")):
        response = radius.post("authorize", pap())
    assert response.status_code == 503
    assert response.json() == {"error": "database unavailable"}


def test_authorize_is_one_query(radius, mikrotik, bob, django_assert_num_queries):
    radius.post("authorize", pap())  # the NAS is now in this process's cache
    with django_assert_num_queries(1):
        assert radius.post("authorize", pap()).status_code == 200
    with django_assert_num_queries(1):
        chap = {"User-Name": "bob", "NAS-IP-Address": "10.0.0.1", "CHAP-Password": "0x01"}
        assert radius.post("authorize", chap).status_code == 200


def test_cold_nas_cache_costs_one_more_query(radius, mikrotik, bob, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert radius.post("authorize", pap()).status_code == 200
