"""The cabinet pages' frame: logging in (the API's throttle), out, by address, idle
expiry, CSRF refusals, the language switch — through the Django test client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from asr_billing.cabinet.models import AuthThrottle, CabinetSession, SessionMethod
from asr_billing.cabinet.web.auth import LANGUAGE_COOKIE, MANUAL_COOKIE, SESSION_COOKIE
from tests.cabinet_web.conftest import IP, LOGIN, PASSWORD

OUTSIDE = "192.0.2.10"  # a visitor's address that is no cabinet server and holds no login


def login_form(client, password=PASSWORD, login=LOGIN, **extra):
    return client.post("/cabinet/login/", {"login": login, "password": password}, **extra)


def test_login_page_has_labelled_fields_and_a_csrf_token(page_client, db):
    response = page_client.get("/cabinet/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_login">Login</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<html lang="en">' in html


def test_login_opens_a_cabinet_session_and_goes_home(page_client, cab_world):
    response = login_form(page_client, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 302
    assert response["Location"] == "/cabinet/"
    session = CabinetSession.objects.get()
    assert (session.login_id, session.method, session.src_ip) == (
        cab_world["login"].pk, SessionMethod.PASSWORD, OUTSIDE)
    cookie = page_client.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/cabinet/"
    assert page_client.get("/cabinet/", REMOTE_ADDR=OUTSIDE).status_code == 200


def test_wrong_password_is_refused_on_the_form_and_counted(page_client, cab_world):
    response = login_form(page_client, "nope", REMOTE_ADDR=OUTSIDE)
    html = response.content.decode()
    assert response.status_code == 400
    assert '<p class="error" role="alert" id="login-error">Wrong login or password.</p>' in html
    assert f'value="{LOGIN}"' in html  # the login stays typed in
    assert not CabinetSession.objects.exists()
    assert SESSION_COOKIE not in page_client.cookies
    counted = dict(AuthThrottle.objects.values_list("scope", "failures"))
    assert counted == {"login": 1, "login_ip": 1, "ip": 1}


@pytest.mark.parametrize("login,password", [("", PASSWORD), (LOGIN, ""), ("  ", "")])
def test_empty_fields_are_refused_and_nothing_is_counted(page_client, cab_world, login,
                                                         password):
    response = login_form(page_client, password, login, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 400
    assert "Enter your login and password." in response.content.decode()
    assert not AuthThrottle.objects.exists()
    assert not CabinetSession.objects.exists()


def test_the_throttle_refuses_in_the_subscribers_words(page_client, cab_world, config_edit):
    config_edit("cabinet", "login.max_failures", "2")
    for _attempt in range(2):
        assert login_form(page_client, "nope", REMOTE_ADDR=OUTSIDE).status_code == 400
    response = login_form(page_client, REMOTE_ADDR=OUTSIDE)  # the right password, too late
    assert response.status_code == 400
    assert "Too many failed logins. Try again in 15 min." in response.content.decode()
    assert not CabinetSession.objects.exists()
    # The owner elsewhere is not locked out.
    assert login_form(page_client, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_next_is_followed_only_inside_the_cabinet(page_client, cab_world):
    response = page_client.post("/cabinet/login/?next=https://evil.example/",
                                {"login": LOGIN, "password": PASSWORD})
    assert response["Location"] == "/cabinet/"
    page_client.cookies.pop(SESSION_COOKIE)
    response = page_client.post("/cabinet/login/", {"login": LOGIN, "password": PASSWORD,
                                                    "next": "/cabinet/?months=6"})
    assert response["Location"] == "/cabinet/?months=6"


def test_a_page_without_a_session_sends_to_the_login_form(page_client, cab_world):
    response = page_client.get("/cabinet/?months=6", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 302
    assert response["Location"] == "/cabinet/login/?next=%2Fcabinet%2F%3Fmonths%3D6"


def test_logout_ends_the_session_and_auto_login_waits_for_a_password(logged_in, cab_world):
    session = CabinetSession.objects.get()
    assert logged_in.get("/cabinet/logout/").status_code == 405  # a form's POST only
    response = logged_in.post("/cabinet/logout/", REMOTE_ADDR=IP)
    assert response.status_code == 302 and response["Location"] == "/cabinet/login/"
    session.refresh_from_db()
    assert session.closed_at is not None
    assert logged_in.cookies[SESSION_COOKIE].value == ""
    assert logged_in.cookies[MANUAL_COOKIE].value == "1"
    # From the login's own address, auto-login would let them straight back in.
    assert logged_in.get("/cabinet/", REMOTE_ADDR=IP).status_code == 302
    page = logged_in.get("/cabinet/login/", REMOTE_ADDR=IP).content.decode()
    assert "You have logged out" in page


def test_auto_login_by_address(page_client, cab_world):
    response = page_client.get("/cabinet/", REMOTE_ADDR=IP)
    assert response.status_code == 200
    session = CabinetSession.objects.get()
    assert (session.method, session.src_ip) == (SessionMethod.AUTO_IP, IP)
    assert page_client.cookies[SESSION_COOKIE].value
    # The cookie carries on; no second session.
    assert page_client.get("/cabinet/", REMOTE_ADDR=IP).status_code == 200
    assert CabinetSession.objects.count() == 1


def test_auto_login_can_be_turned_off(page_client, cab_world, config_edit):
    config_edit("cabinet", "web.auto_login", "no")
    response = page_client.get("/cabinet/", REMOTE_ADDR=IP)
    assert response.status_code == 302
    assert not CabinetSession.objects.exists()


def test_auto_login_behind_a_trusted_proxy(page_client, cab_world, config_edit):
    # Not trusted: the proxy's own address holds no login.
    assert page_client.get("/cabinet/", REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR=IP).status_code == 302
    config_edit("network", "api.trusted_proxies", "127.0.0.1")
    response = page_client.get("/cabinet/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=IP)
    assert response.status_code == 200
    assert CabinetSession.objects.get().src_ip == IP
    # A forwarded address from anyone else is not believed.
    other = Client()
    assert other.get("/cabinet/", REMOTE_ADDR=OUTSIDE,
                     HTTP_X_FORWARDED_FOR=IP).status_code == 302


def test_an_idle_session_ends(logged_in, cab_world, config_edit):
    config_edit("cabinet", "session.idle_minutes", "5")
    session = CabinetSession.objects.get()
    CabinetSession.objects.filter(pk=session.pk).update(
        last_seen_at=session.last_seen_at - dt.timedelta(minutes=5))
    response = logged_in.get("/cabinet/", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 302
    assert response["Location"].startswith("/cabinet/login/")
    page = logged_in.get(response["Location"], REMOTE_ADDR=OUTSIDE).content.decode()
    assert "Your session has ended. Please log in again." in page


def test_a_session_used_within_the_idle_time_lives(logged_in, cab_world, config_edit):
    config_edit("cabinet", "session.idle_minutes", "5")
    session = CabinetSession.objects.get()
    CabinetSession.objects.filter(pk=session.pk).update(
        last_seen_at=session.last_seen_at - dt.timedelta(minutes=4))
    assert logged_in.get("/cabinet/", REMOTE_ADDR=OUTSIDE).status_code == 200


def test_forms_without_the_csrf_token_are_refused_in_plain_words(cab_world):
    client = Client(enforce_csrf_checks=True)
    client.cookies[LANGUAGE_COOKIE] = "en"
    response = client.post("/cabinet/login/", {"login": LOGIN, "password": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert "The form has expired" in html and "Nothing was changed." in html
    assert not CabinetSession.objects.exists()
    assert not AuthThrottle.objects.exists()
    # Elsewhere Django's own answer, as before.
    admin = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert admin.status_code == 403
    assert "CSRF" in admin.content.decode()
    assert "The form has expired" not in admin.content.decode()


def test_logout_without_the_csrf_token_keeps_the_session(cab_world):
    client = Client(enforce_csrf_checks=True)
    client.get("/cabinet/login/")
    token = client.cookies["csrftoken"].value
    assert client.post("/cabinet/login/", {"login": LOGIN, "password": PASSWORD,
                                           "csrfmiddlewaretoken": token}).status_code == 302
    assert client.post("/cabinet/logout/").status_code == 403
    assert CabinetSession.objects.get().closed_at is None


def test_the_language_switch_is_the_cabinets_own(client, cab_world, config_edit):
    config_edit("app", "language", "ru")
    assert '<html lang="ru">' in client.get("/cabinet/login/").content.decode()
    response = client.post("/cabinet/language/", {"language": "en",
                                                  "next": "/cabinet/login/"})
    assert response.status_code == 302 and response["Location"] == "/cabinet/login/"
    assert client.cookies[LANGUAGE_COOKIE].value == "en"
    html = client.get("/cabinet/login/").content.decode()
    assert '<html lang="en">' in html and "Log in to your cabinet" in html
    # The admin keeps app['language'].
    assert 'lang="ru"' in client.get("/admin/login/").content.decode()


def test_an_unknown_language_is_ignored(client, cab_world):
    response = client.post("/cabinet/language/", {"language": "de", "next": "//evil.example"})
    assert response["Location"] == "/cabinet/"
    assert LANGUAGE_COOKIE not in client.cookies
