"""POST /radius/accounting/: Start / Interim-Update / Stop / Accounting-On|Off become
OnlineSession rows (network.sessions) and show in collector_manager.users_logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError

from asr_billing.network.models import OnlineSession
from asr_billing.network.radius_class import class_token
from asr_billing.network.services import nas_create

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
STAMP = "Nov 28 2026 10:00:00 UTC"


@pytest.fixture
def bob(subscriber, make_login):
    return make_login(subscriber, "bob", password="hello123")


def sessions():
    return list(OnlineSession.objects.order_by("pk").values(
        "login__login", "nas__ip", "acct_session_id", "acct_unique_id", "ip",
        "calling_station_id", "nas_port_id", "class_token", "started_at", "stopped_at",
        "terminate_cause", "input_octets", "output_octets"))


def acct(status, *, sid="81a00001", unique="u-81a00001", user="bob", **more):
    body = {"Acct-Status-Type": status, "User-Name": user, "NAS-IP-Address": "10.0.0.1",
            "Acct-Session-Id": sid, "Acct-Unique-Session-Id": unique,
            "Event-Timestamp": STAMP}
    body.update(more)
    return {name: value for name, value in body.items() if value is not None}


def users_logged(client, nas_ip="10.0.0.1"):
    response = client.get("/system_api/", {
        "model": "Abonents", "method1": "collector_manager.users_logged",
        "arg1": f'{{"nas_ip": "{nas_ip}"}}', "context": "collector", "format": "json",
        "psw": "collectortestpsw"}, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200, response.content
    return [row["login"] for row in response.json()]


def test_start_interim_stop(radius, nas, bob, client):
    token = class_token(login_id=bob.pk, decided_at=1)
    start = acct("Start", **{"Framed-IP-Address": "100.64.0.7",
                             "Calling-Station-Id": "00:11:22:33:44:55",
                             "NAS-Port-Id": "ether2", "Class": "0x" + token.encode().hex()})
    response = radius.post("accounting", start)
    assert response.status_code == 204
    assert response.content == b""
    [row] = sessions()
    assert row == {
        "login__login": "bob", "nas__ip": "10.0.0.1", "acct_session_id": "81a00001",
        "acct_unique_id": "u-81a00001", "ip": "100.64.0.7",
        "calling_station_id": "00:11:22:33:44:55", "nas_port_id": "ether2",
        "class_token": token, "started_at": T0, "stopped_at": None,
        "terminate_cause": "", "input_octets": 0, "output_octets": 0}
    assert users_logged(client) == ["bob"]

    interim = acct("Interim-Update", **{
        "Acct-Input-Octets": 5, "Acct-Input-Gigawords": 2, "Acct-Output-Octets": 700,
        "Acct-Session-Time": 300, "Event-Timestamp": "Nov 28 2026 10:05:00 UTC"})
    assert radius.post("accounting", interim).status_code == 204
    [row] = sessions()
    assert (row["input_octets"], row["output_octets"]) == (2 * 2**32 + 5, 700)
    assert row["stopped_at"] is None

    stop = acct("Stop", **{"Acct-Input-Octets": 9, "Acct-Input-Gigawords": 2,
                           "Acct-Output-Octets": 900, "Acct-Terminate-Cause": "User-Request",
                           "Event-Timestamp": "Nov 28 2026 10:07:30 UTC"})
    assert radius.post("accounting", stop).status_code == 204
    [row] = sessions()
    assert row["stopped_at"] == T0 + timedelta(minutes=7, seconds=30)
    assert row["terminate_cause"] == "User-Request"
    assert (row["input_octets"], row["output_octets"]) == (2 * 2**32 + 9, 900)
    assert users_logged(client) == []


def test_duplicate_start_makes_one_session(radius, nas, bob, client):
    for _ in range(3):
        assert radius.post("accounting", acct("Start")).status_code == 204
    assert len(sessions()) == 1
    assert users_logged(client) == ["bob"]


def test_numeric_status_and_counters64(radius, nas, bob):
    assert radius.post("accounting", acct(1)).status_code == 204
    body = acct(3, **{"Acct-Input-Octets64": 6 * 2**32 + 1, "Acct-Output-Octets64": 77})
    assert radius.post("accounting", body).status_code == 204
    [row] = sessions()
    assert (row["input_octets"], row["output_octets"]) == (6 * 2**32 + 1, 77)


def test_counters_never_go_backwards(radius, nas, bob):
    radius.post("accounting", acct("Start"))
    radius.post("accounting", acct("Interim-Update", **{"Acct-Input-Octets": 1000}))
    radius.post("accounting", acct("Interim-Update", **{"Acct-Input-Octets": 400}))
    assert sessions()[0]["input_octets"] == 1000


def test_interim_without_start_opens_the_session(radius, nas, bob, client):
    body = acct("Interim-Update", **{"Acct-Session-Time": 600, "Acct-Output-Octets": 10})
    assert radius.post("accounting", body).status_code == 204
    [row] = sessions()
    assert row["started_at"] == T0 - timedelta(seconds=600)
    assert row["output_octets"] == 10
    assert users_logged(client) == ["bob"]


def test_stop_without_start_is_kept_in_history(radius, nas, bob, client):
    body = acct("Stop", **{"Acct-Session-Time": 60, "Acct-Terminate-Cause": "Lost-Carrier"})
    assert radius.post("accounting", body).status_code == 204
    assert radius.post("accounting", body).status_code == 204  # retransmitted
    [row] = sessions()
    assert (row["started_at"], row["stopped_at"]) == (T0 - timedelta(seconds=60), T0)
    assert row["terminate_cause"] == "Lost-Carrier"
    assert users_logged(client) == []


def test_accounting_on_closes_only_that_nas(radius, nas, bob, make_login, subscriber, client):
    other = nas_create(name="NAS 2", ip="10.0.0.2", actor="test", radius_secret="x")
    make_login(subscriber, "alice", nas=other)
    radius.post("accounting", acct("Start"))
    radius.post("accounting", acct("Start", sid="2", unique="u-2", user="alice",
                                   **{"NAS-IP-Address": "10.0.0.2"}))
    body = {"Acct-Status-Type": "Accounting-On", "NAS-IP-Address": "10.0.0.1",
            "Event-Timestamp": "Nov 28 2026 11:00:00 UTC"}
    assert radius.post("accounting", body).status_code == 204
    rows = {row["login__login"]: row for row in sessions()}
    assert rows["bob"]["terminate_cause"] == "NAS-Reboot"
    assert rows["bob"]["stopped_at"] == T0 + timedelta(hours=1)
    assert rows["alice"]["stopped_at"] is None
    assert users_logged(client, "10.0.0.2") == ["alice"]


def test_class_names_the_login_even_after_a_rename(radius, nas, bob):
    body = acct("Start", user="old-name",
                Class="0x" + class_token(login_id=bob.pk, decided_at=1).encode().hex())
    assert radius.post("accounting", body).status_code == 204
    assert sessions()[0]["login__login"] == "bob"


def test_a_class_naming_no_login_falls_back_to_user_name(radius, nas, bob):
    body = acct("Start", Class="asr1:999999:1")
    assert radius.post("accounting", body).status_code == 204
    assert sessions()[0]["login__login"] == "bob"


def test_nas_from_the_client_header(radius, nas, bob):
    body = acct("Start", **{"NAS-IP-Address": None})
    assert radius.post("accounting", body, x_radius_client="10.0.0.1").status_code == 204
    assert sessions()[0]["nas__ip"] == "10.0.0.1"


@pytest.mark.parametrize("user", ["nobody", "ю" * 10_000, 'a"b', "bo\x00b"])
def test_unknown_login_is_answered_and_written_nowhere(radius, nas, bob, user):
    response = radius.post("accounting", acct("Start", user=user))
    assert response.status_code == 204
    assert sessions() == []


def test_unknown_nas_is_answered_and_written_nowhere(radius, nas, bob):
    response = radius.post("accounting", acct("Start", **{"NAS-IP-Address": "10.9.9.9"}))
    assert response.status_code == 204
    assert sessions() == []


def test_a_bad_framed_ip_is_left_out(radius, nas, bob):
    assert radius.post("accounting", acct(
        "Start", **{"Framed-IP-Address": "not-an-ip"})).status_code == 204
    assert sessions()[0]["ip"] is None


def test_unknown_attributes_are_ignored(radius, nas, bob):
    body = acct("Start", **{"Mikrotik-Wireless-Comment": "x", "Vendor-9-Attr-1": ["a", 3]})
    assert radius.post("accounting", body).status_code == 204
    assert len(sessions()) == 1


def test_long_texts_are_cut(radius, nas, bob):
    body = acct("Start", sid="s" * 300, unique="u" * 300,
                **{"NAS-Port-Id": "p" * 300, "Calling-Station-Id": "c" * 300})
    assert radius.post("accounting", body).status_code == 204
    row = sessions()[0]
    assert (row["acct_session_id"], row["acct_unique_id"], row["nas_port_id"],
            row["calling_station_id"]) == ("s" * 64, "u" * 64, "p" * 64, "c" * 64)


@pytest.mark.parametrize("raw", [
    "not json", "[]",
    '{"Acct-Status-Type": "Start"',
    '{"Acct-Status-Type": {"type": "integer", "value": "Start"}}',
    '{"Acct-Status-Type": {"type": "integer", "value": [{}]}}',
    '{"Acct-Status-Type": {"value": ["Start"]}, "Acct-Input-Octets": {"value": [-1]}}',
    '{"Acct-Status-Type": {"value": ["Start"]}, "Event-Timestamp": {"value": ["yesterday"]}}',
])
def test_malformed_bodies_are_400_and_change_nothing(radius, nas, bob, raw):
    response = radius.post("accounting", raw=raw)
    assert response.status_code == 400
    assert "error" in response.json()
    assert sessions() == []


def test_token_and_address_are_checked(radius, nas, bob):
    assert radius.post("accounting", acct("Start"), token=None).status_code == 401
    assert radius.post("accounting", acct("Start"), token="wrong").status_code == 401
    assert radius.post("accounting", acct("Start"), remote="192.0.2.1").status_code == 403
    assert sessions() == []


def test_database_outage_is_503(radius, nas, bob, monkeypatch):
    def away(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("asr_billing.radius.views.session_account", away)
    response = radius.post("accounting", acct("Start"))
    assert response.status_code == 503
    assert sessions() == []
