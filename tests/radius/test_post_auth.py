"""POST /radius/post-auth/: a refusal becomes one RadiusAuthLog row; 204."""

from __future__ import annotations

import logging

import pytest

from asr_billing.network.models import RadiusAuthLog
from tests.conftest import db_state


@pytest.fixture
def bob(subscriber, make_login):
    return make_login(subscriber, "bob", password="hello123")


def rows():
    return list(RadiusAuthLog.objects.order_by("pk").values(
        "nas_id", "login_id", "username", "calling_station_id", "reason"))


def test_our_reason_is_logged(radius, nas, bob):
    body = {"User-Name": "bob", "User-Password": "wrong", "NAS-IP-Address": "10.0.0.1",
            "Calling-Station-Id": "00:11:22:33:44:55",
            "Module-Failure-Message": ["rest: something", "asr: wrong password"]}
    response = radius.post("post-auth", body)
    assert response.status_code == 204
    assert response.content == b""
    assert rows() == [{"nas_id": nas.pk, "login_id": bob.pk, "username": "bob",
                       "calling_station_id": "00:11:22:33:44:55", "reason": "wrong password"}]


def test_freeradius_reason_and_header_nas(radius, nas, bob):
    # A CHAP mismatch: our authorize accepted, FreeRADIUS's chap module refused.
    body = {"User-Name": "bob", "CHAP-Password": "0x01",
            "Module-Failure-Message": "chap: Password comparison failed: password is incorrect"}
    assert radius.post("post-auth", body, x_radius_client="10.0.0.1").status_code == 204
    assert rows() == [{"nas_id": nas.pk, "login_id": bob.pk, "username": "bob",
                       "calling_station_id": "",
                       "reason": "chap: Password comparison failed: password is incorrect"}]


def test_unknown_everything_is_still_logged_and_cut(radius, nas):
    name = "ю" * 10_000
    body = {"User-Name": name, "NAS-IP-Address": "10.9.9.9", "Calling-Station-Id": "x" * 500,
            "Module-Failure-Message": "asr: " + "r" * 1000}
    assert radius.post("post-auth", body).status_code == 204
    assert rows() == [{"nas_id": None, "login_id": None, "username": "ю" * 64,
                       "calling_station_id": "x" * 64, "reason": "r" * 200}]


def test_nul_bytes_are_stored_replaced(radius, nas):
    body = {"User-Name": "bo\x00b", "Module-Failure-Message": "asr: unknown login\x00"}
    assert radius.post("post-auth", body).status_code == 204
    assert rows() == [{"nas_id": None, "login_id": None, "username": "bo\ufffdb",
                       "calling_station_id": "", "reason": "unknown login\ufffd"}]


def test_no_reason(radius, nas):
    assert radius.post("post-auth", {"User-Name": 'a"b'}).status_code == 204
    assert rows() == [{"nas_id": None, "login_id": None, "username": 'a"b',
                       "calling_station_id": "", "reason": "rejected"}]


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"token": None}, 401), ({"token": "bad-token-000000000000"}, 401),
    ({"remote": "192.0.2.1"}, 403), ({"raw": "{"}, 400),
    ({"raw": '{"User-Name": {"type": "string", "value": [1]}}'}, 400),
    ({"raw": '{"Module-Failure-Message": {"value": "x"}}'}, 400),
])
def test_refused_calls_write_nothing(radius, nas, bob, kwargs, status):
    before = db_state()
    body = {"User-Name": "bob", "Module-Failure-Message": "asr: wrong password"}
    assert radius.post("post-auth", body, **kwargs).status_code == status
    assert rows() == []
    assert db_state() == before


def test_log_lines_carry_no_secrets(radius, nas, bob, config_edit):
    """One line per request at info; never the password, a CHAP value or the token."""
    config_edit("app", "django.loglevel", "info")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("asr_billing.system_api.radius")
    logger.addHandler(handler)
    try:
        radius.post("authorize", {"User-Name": "bob", "User-Password": "hello123",
                                  "NAS-IP-Address": "10.0.0.1"})
        radius.post("authorize", {"User-Name": "bob", "CHAP-Password": "0xdeadbeef",
                                  "NAS-IP-Address": "10.0.0.1"})
        radius.post("post-auth", {"User-Name": "bob", "NAS-IP-Address": "10.0.0.1",
                                  "Module-Failure-Message": "asr: wrong password"})
    finally:
        logger.removeHandler(handler)
    lines = [record.getMessage() for record in records]
    assert [line.split(" ms=")[0] for line in lines] == [
        "radius authorize ip=127.0.0.1 nas=10.0.0.1 user=bob status=200 result=ok",
        "radius authorize ip=127.0.0.1 nas=10.0.0.1 user=bob status=200 result=ok",
        "radius post-auth ip=127.0.0.1 nas=10.0.0.1 user=bob status=204 result=wrong password",
    ]
    text = "\n".join(lines)
    assert "hello123" not in text and "deadbeef" not in text and "radius-test" not in text


def test_redaction_of_rlm_rest_bodies():
    from asr_billing.core.logging import redact

    body = ('{"User-Name": {"type": "string", "value": ["bob"]}, "User-Password": '
            '{"type": "string", "value": ["s3\\"cr,]et"]}, "CHAP-Password": '
            '{"type": "octets", "value": ["0x0102"]}, "MS-CHAP2-Response": '
            '{"type": "octets", "value": ["0x0a"]}}')
    assert redact(body) == (
        '{"User-Name": {"type": "string", "value": ["bob"]}, "User-Password": '
        '{"type": "string", "value": "***"}, "CHAP-Password": '
        '{"type": "octets", "value": "***"}, "MS-CHAP2-Response": '
        '{"type": "octets", "value": "***"}}')
    assert redact('{"control:Cleartext-Password": {"value": "pw", "do_xlat": false}}') == (
        '{"control:Cleartext-Password": {"value": "***", "do_xlat": false}}')
    assert redact("Authorization: Bearer abc.DEF-123 next") == "Authorization: Bearer *** next"
