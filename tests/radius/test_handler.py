"""radius.handler.RadiusFirstHandler: /radius/ calls go straight to their views with the
live config's language; every other path is Django's handler unchanged."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from asr_billing.network.models import OnlineSession
from asr_billing.radius.handler import RadiusFirstHandler
from tests.radius.conftest import TOKEN, rlm_body


@pytest.fixture
def handler(config_edit):
    config_edit("radius", "api.token", TOKEN)
    config_edit("app", "language", "en")
    return RadiusFirstHandler()


def post(handler, path, attributes, token=TOKEN):
    request = RequestFactory().post(
        path, data=rlm_body(attributes), content_type="application/json",
        REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    return handler.get_response(request)


def test_authorize_accept_and_reject(handler, nas, subscriber, make_login):
    make_login(subscriber, "bob", password="hello123")
    accept = post(handler, "/radius/authorize/", {
        "User-Name": "bob", "User-Password": "hello123", "NAS-IP-Address": "10.0.0.1"})
    assert accept.status_code == 200
    assert "reply:Class" in json.loads(accept.content)
    reject = post(handler, "/radius/authorize/", {
        "User-Name": "bob", "User-Password": "nope", "NAS-IP-Address": "10.0.0.1"})
    assert reject.status_code == 401
    assert json.loads(reject.content)["reply:Reply-Message"]["value"] == \
        "Wrong login or password."


def test_accounting_writes_the_session(handler, nas, subscriber, make_login):
    make_login(subscriber, "bob")
    response = post(handler, "/radius/accounting/", {
        "Acct-Status-Type": "Start", "User-Name": "bob", "NAS-IP-Address": "10.0.0.1",
        "Acct-Session-Id": "1", "Acct-Unique-Session-Id": "u1"})
    assert response.status_code == 204
    assert OnlineSession.objects.filter(acct_unique_id="u1", stopped_at=None).count() == 1


def test_the_token_is_still_checked(handler, nas):
    assert post(handler, "/radius/accounting/", {}, token="wrong").status_code == 401
    assert OnlineSession.objects.count() == 0


def test_other_paths_take_djangos_way(handler, db):
    # Without the slash: CommonMiddleware's redirect, i.e. the middleware ran.
    request = RequestFactory().post("/radius/authorize", data="{}",
                                    content_type="application/json")
    response = handler.get_response(request)
    assert (response.status_code, response.headers.get("Location")) == (301, "/radius/authorize/")
    request = RequestFactory().get("/cabinet/login/")
    response = handler.get_response(request)
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"  # the middleware's header


def test_an_unexpected_error_is_djangos_500(handler, nas, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("asr_billing.radius.views.radius_authorize", broken)
    response = post(handler, "/radius/authorize/", {"User-Name": "bob"})
    assert response.status_code == 500
