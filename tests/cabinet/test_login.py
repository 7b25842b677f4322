"""web_cabinet.login, try_auto_login, logout, sessions (expiry, suid placement); the
failed-login limits are in test_throttle.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from asr_billing.cabinet.models import CabinetSession, SessionMethod
from asr_billing.cabinet.services import digest
from asr_billing.network.services import login_update

from .conftest import IP, LOGIN, PASSWORD, db_state, url

MSK = ZoneInfo("Europe/Moscow")
NOT_AUTHORIZED = {"error": "Необходимо авторизоваться"}
WRONG = {"error": "Неверный логин или пароль"}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


def expected_user(world) -> dict:
    subscriber, login = world["subscriber"], world["login"]
    account = f"№ {subscriber.pk} Баланс: 390.67"
    return {
        "pk": login.pk,
        "login": "testlogin",
        "__self": "testlogin",
        "__abonent": "Иванов Иван Иванович",
        "enabled": "1",
        "ip": "10.20.30.41",
        "phone": "",
        "email": "ivanov@example.com",
        "home": "ул. Ленина, 1",
        "abonent_pay": "600.00",
        "abonent_pay_next_date": "2024-06-01",
        "abonent": {
            "pk": subscriber.pk,
            "name": "Иванов Иван Иванович",
            "contract_number": subscriber.contract_number,
            "activate_date": "",
            "create_date": "2024-05-10 12:00:00",
            "create_date_system": "2024-05-10 12:00:00",
            "__account": account,
            "__tarif": "Home 100",
            "__home": "ул. Ленина, 1",
            "a_home_number": "12",
            "sms": "+79161234567",
            "email": "ivanov@example.com",
            "phone": "",
            "balance": "390.67",
            "credit": "0.00",
            "promise_pay": "0.00",
            "recomend_pay_sum": "209.33",
            "minimal_pay_sum": "0.00",
            "abon_pay_for_today": "0.00",
            "allow_internet": "1",
            "own_disabled_start": "",
            "own_disabled_end": "",
            "account": {"pk": subscriber.pk, "__self": account, "balance": "390.67"},
            "tarif": {
                "pk": subscriber.tariff_id,
                "name": "Home 100",
                "__self": "Home 100",
                "__tarif": "Home 100",
                "summa": "600.00",
                "charge_method": "monthly",
                "speed_in": 100000,
                "speed_out": 50000,
            },
        },
    }


@pytest.fixture
def may10():
    with time_machine.travel(at(2024, 5, 10, 12, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world_may10(may10, world):
    return world


def test_login_answer_exactly(cab, world_may10):
    answer = cab("login", {"login": "testlogin", "passwd": "testpsw"})
    session_id = answer.pop("session_id")
    assert len(session_id) == 32 and int(session_id, 16) >= 0
    assert answer == {
        "user": expected_user(world_may10),
        "currency": {"NAME": "Российский рубль", "SHORT_NAME": "руб.", "CODE": "RUB"},
    }
    session = CabinetSession.objects.get()
    # Only the digest is stored; the session remembers who, how and from where.
    assert session.key_hash == digest(session_id) and session_id not in session.key_hash
    assert (session.login_id, session.subscriber_id, session.method, session.src_ip) == (
        world_may10["login"].pk, world_may10["subscriber"].pk, SessionMethod.PASSWORD,
        "127.0.0.1")
    assert session.created_at == session.last_seen_at == at(2024, 5, 10, 12, 0)


def test_login_with_the_subscribers_ip_from_the_cabinet_server(cab, world):
    cab("login", {"login": LOGIN, "passwd": PASSWORD, "src_ip": "192.0.2.7"})
    assert CabinetSession.objects.get().src_ip == "192.0.2.7"


def test_currency_follows_the_config(cab, world, config_edit):
    config_edit("app", "currency", "KZT")
    answer = cab("login", {"login": LOGIN, "passwd": PASSWORD})
    assert answer["currency"] == {"NAME": "Казахстанский тенге", "SHORT_NAME": "тг.",
                                  "CODE": "KZT"}


@pytest.mark.parametrize("arg1", [
    {"login": "testlogin", "passwd": "wrong"},
    {"login": "nosuchlogin", "passwd": "testpsw"},
    {"login": "testlogin"},
    {"login": "testlogin", "passwd": ""},
    {"login": "", "passwd": "testpsw"},
    {"login": "TESTLOGIN", "passwd": "testpsw"},
    {"login": "testlogin", "passwd": ["testpsw"]},
])
def test_wrong_login_or_password(cab, world, arg1):
    before = db_state()
    assert cab("login", arg1) == WRONG
    after = db_state()
    # Nothing changes but the failure counters.
    assert {k: v for k, v in after.items() if k != "throttle"} == {
        k: v for k, v in before.items() if k != "throttle"}
    assert CabinetSession.objects.count() == 0


def test_password_sent_as_a_number(cab, world, make_login):
    make_login(world["subscriber"], "numeric", "123456", ip=None)
    assert "session_id" in cab("login", '{"login":"numeric","passwd":123456}')


def test_a_disabled_login_may_still_log_in_and_sees_enabled_0(cab, world):
    login_update(login=world["login"], actor="test", enabled=False)
    answer = cab("login", {"login": LOGIN, "passwd": PASSWORD})
    assert answer["user"]["enabled"] == "0"


# --- Failed-login limits: tests/cabinet/test_throttle.py -----------------------------------


# --- Auto-login by IP -------------------------------------------------------------------------


def test_try_auto_login(cab, world_may10):
    answer = cab("try_auto_login", {"src_ip": "10.20.30.41"})
    session_id = answer.pop("session_id")
    assert answer["user"] == expected_user(world_may10)
    session = CabinetSession.objects.get(key_hash=digest(session_id))
    assert (session.method, session.src_ip) == (SessionMethod.AUTO_IP, "10.20.30.41")


def test_try_auto_login_by_the_ipv4_mapped_form(cab, world):
    # A dual-stack cabinet web server sees IPv4 clients as ::ffff:a.b.c.d.
    answer = cab("try_auto_login", {"src_ip": "::ffff:" + IP})
    session = CabinetSession.objects.get(key_hash=digest(answer["session_id"]))
    assert (answer["user"]["login"], session.src_ip) == (LOGIN, IP)


@pytest.mark.parametrize("src_ip, error", [
    ("10.20.30.300", "Не задан ip, либо имеет неверный формат: 10.20.30.300"),
    ("", "Не задан ip, либо имеет неверный формат: "),
    ("fe80::1%eth0", "Не задан ip, либо имеет неверный формат: fe80::1%eth0"),
    ("10.20.30.42", "Не удалось автоматически авторизоваться"),
])
def test_try_auto_login_errors(cab, world, src_ip, error):
    before = db_state()
    assert cab("try_auto_login", {"src_ip": src_ip}) == {"error": error}
    assert db_state() == before


def test_try_auto_login_needs_an_enabled_login(cab, world):
    login_update(login=world["login"], actor="test", enabled=False)
    assert cab("try_auto_login", {"src_ip": IP}) == {
        "error": "Не удалось автоматически авторизоваться"}


@pytest.fixture
def other_callers(config_edit):
    """Callers outside network['api.cabinet_servers'] (127.0.0.1 and ::1) may use the API:
    a subscriber's own app, an integration server, anyone on 10.20.30.0/24."""
    config_edit("network", "api.allowed_ips", "127.0.0.1 ::1 10.20.30.0/24 192.0.2.0/24")


def test_try_auto_login_believes_src_ip_only_from_a_cabinet_server(cab, world, other_callers):
    # Any caller allowed to use the API, naming the subscriber's address, must not get
    # a session as that subscriber: its own address holds no login.
    before = db_state()
    assert cab("try_auto_login", {"src_ip": IP}, remote="192.0.2.66") == {
        "error": "Не удалось автоматически авторизоваться"}
    assert db_state() == before


def test_try_auto_login_from_another_caller_uses_its_own_address(cab, world, other_callers):
    # The subscriber's device calling the API itself logs in by its own address,
    # whatever src_ip it sends (none, another's, junk).
    for src_ip in (None, "10.20.30.42", "junk"):
        arg1 = {} if src_ip is None else {"src_ip": src_ip}
        answer = cab("try_auto_login", arg1, remote=IP)
        session = CabinetSession.objects.get(key_hash=digest(answer["session_id"]))
        assert (answer["user"]["login"], session.src_ip) == (LOGIN, IP)


def test_try_auto_login_behind_a_trusted_proxy_uses_the_forwarded_client(client, world,
                                                                        other_callers,
                                                                        config_edit):
    config_edit("network", "api.trusted_proxies", "192.0.2.1")
    answer = client.get(url("try_auto_login", {"src_ip": "10.20.30.42"}),
                        REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=IP).json()
    assert answer["user"]["login"] == LOGIN
    # A cabinet server behind the proxy passes src_ip as before.
    config_edit("network", "api.cabinet_servers", "192.0.2.5")
    answer = client.get(url("try_auto_login", {"src_ip": IP}),
                        REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="192.0.2.5").json()
    assert answer["user"]["login"] == LOGIN


def test_try_auto_login_over_rest_v2_believes_src_ip_only_from_a_cabinet_server(
        client, world, other_callers):
    # CODE C-LARA: POST /rest_api/v2/Users/ method1=web_cabinet.try_auto_login
    def call(remote):
        response = client.post("/rest_api/v2/Users/", {
            "method1": "web_cabinet.try_auto_login", "arg1": f'{{"src_ip": "{IP}"}}'},
            REMOTE_ADDR=remote)
        return json.loads(response.json()["result"][0])

    assert call("192.0.2.66") == {"error": "Не удалось автоматически авторизоваться"}
    assert not CabinetSession.objects.exists()
    assert call("127.0.0.1")["user"]["login"] == LOGIN


# --- Sessions -------------------------------------------------------------------------------


def test_session_expires_after_idle_minutes(cab, world, may10):
    suid = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    may10.shift(timedelta(minutes=29, seconds=59))
    assert cab("user_info", {"suid": suid})["balance"] == "390.67"  # use keeps it alive
    may10.shift(timedelta(minutes=29, seconds=59))
    assert cab("user_info", {"suid": suid})["balance"] == "390.67"
    may10.shift(timedelta(minutes=30))
    before = db_state()
    assert cab("user_info", {"suid": suid}) == NOT_AUTHORIZED
    assert db_state() == before


def test_idle_minutes_from_the_config(cab, world, may10, config_edit):
    config_edit("cabinet", "session.idle_minutes", "5")
    suid = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    may10.shift(timedelta(minutes=5))
    assert cab("get_user", {"suid": suid}) == NOT_AUTHORIZED


def test_last_use_is_written_at_most_once_a_minute(may10, cab, suid):
    seen = CabinetSession.objects.get().last_seen_at
    may10.shift(timedelta(seconds=59))
    cab("user_info", {"suid": suid})
    assert CabinetSession.objects.get().last_seen_at == seen
    may10.shift(timedelta(seconds=1))
    cab("user_info", {"suid": suid})
    assert CabinetSession.objects.get().last_seen_at == seen + timedelta(seconds=60)


@pytest.mark.parametrize("arg1", [
    {"suid": "54ds34jklji8ufds8u945jkl"}, {"suid": ""}, {}, {"suid": None},
    {"suid": ["x"]}, {"suid": {"a": 1}}, {"suid": 12345}, {"suid": "x" * 500},
])
def test_invalid_session_ids(cab, world, arg1):
    for method in ("user_info", "get_user", "get_usluga_list", "get_pay_log", "logout",
                   "set_user_usluga", "block_user", "set_promise_pay", "set_user_info",
                   "add_payment_operation", "get_promise_pay_list", "unblock_user",
                   "remove_user_usluga"):
        assert cab(method, arg1) == NOT_AUTHORIZED, method


def test_no_arg1_at_all(cab, world):
    assert cab("user_info") == NOT_AUTHORIZED


def test_logout_ends_the_session(cab, suid):
    assert cab("logout", {"suid": suid}) == {"message": "You have logged out"}
    assert CabinetSession.objects.get().closed_at is not None
    assert cab("user_info", {"suid": suid}) == NOT_AUTHORIZED
    assert cab("logout", {"suid": suid}) == NOT_AUTHORIZED


def test_a_login_moved_to_another_subscriber_ends_its_sessions(cab, suid, world,
                                                               make_subscriber):
    from asr_billing.network.models import Login

    other = make_subscriber(name="Петров Пётр")
    Login.objects.filter(pk=world["login"].pk).update(subscriber=other)
    assert cab("user_info", {"suid": suid}) == NOT_AUTHORIZED


def test_new_login_clears_idle_sessions_of_that_login(cab, world, may10):
    cab("login", {"login": LOGIN, "passwd": PASSWORD})
    may10.shift(timedelta(hours=1))
    cab("login", {"login": LOGIN, "passwd": PASSWORD})
    assert CabinetSession.objects.count() == 1


# --- How clients send it -----------------------------------------------------------------------


def test_suid_as_a_top_level_parameter(client, suid):
    """The old PHP helper sends suid=... beside arg1={}."""
    response = client.get(url("user_info", {}, model="Users", suid=suid))
    assert response.json()["balance"] == "390.67"
    response = client.get(url("user_info", None, model="Users", suid=suid))
    assert response.json()["balance"] == "390.67"


@pytest.mark.parametrize("model", ["users", "Users", "Abonents", ""])
def test_model_is_not_checked(client, suid, model):
    response = client.get(url("user_info", {"suid": suid}, model=model))
    assert response.json()["balance"] == "390.67"


def test_encoded_and_unencoded_arg1(client, world):
    """JS and Kotlin glue the JSON in raw; Go's url.Values percent-encodes it."""
    for encode in (False, True):
        response = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD}, encode=encode))
        assert len(response.json()["session_id"]) == 32


def test_password_with_a_plus_sent_unencoded(client, world, make_login):
    """A raw '+' in an un-encoded arg1 is a plus, not a space."""
    make_login(world["subscriber"], "plus", "a+b", ip=None)
    response = client.get(url("login", '{"login":"plus","passwd":"a+b"}'))
    assert "session_id" in response.json()


def test_post_form_body(client, world):
    response = client.post("/system_api/", {
        "format": "json", "context": "web", "model": "users", "method1": "web_cabinet.login",
        "arg1": '{"login":"testlogin","passwd":"testpsw"}'})
    assert "session_id" in response.json()


def test_context_web_password_is_optional_but_checked_when_sent(client, world, config_edit):
    config_edit("network", "api.web.psw", "webpsw")
    ok = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD}))
    assert "session_id" in ok.json()
    ok = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD}, psw="webpsw"))
    assert "session_id" in ok.json()
    refused = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD}, psw="wrong"))
    assert refused.status_code == 403
    assert refused.json() == {"error": "Access denied: wrong psw for context=web"}


def test_cabinet_functions_only_under_context_web(client, world):
    response = client.get("/system_api/?format=json&context=collector&psw=collectortestpsw"
                          "&method1=web_cabinet.login&arg1={}")
    assert response.status_code == 403


def test_from_an_ip_outside_the_allow_list(client, world):
    response = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD}),
                          REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 403
    assert CabinetSession.objects.count() == 0


def test_session_ids_never_reach_the_log(client, world, config_edit, settings):
    config_edit("app", "django.loglevel", "info")
    log = settings.ASR_HOME.system_api_log
    start = log.stat().st_size if log.exists() else 0
    suid = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD})).json()["session_id"]
    client.get(url("user_info", {"suid": suid}))
    written = log.read_bytes()[start:].decode()
    assert "method=web_cabinet.user_info" in written
    assert suid not in written and PASSWORD not in written


# --- Query budget (DESIGN.md §5: a cabinet page ≤ 10 queries) -----------------------------------


def test_query_counts(client, world, django_assert_max_num_queries):
    """Measured: login 13 (3 of them the test's savepoints around the session insert; 7
    the failed-login counters: a read, then BEGIN, INSERT, SELECT … FOR UPDATE, UPDATE,
    COMMIT to count the attempt before the password is compared, and one DELETE to take
    it back — before counting first it was 1 read), auto-login 6, user_info 1 (+1 to
    record the use, once a minute), get_user 2."""
    with django_assert_max_num_queries(13):
        suid = client.get(url("login", {"login": LOGIN, "passwd": PASSWORD})).json()[
            "session_id"]
    with django_assert_max_num_queries(2):
        assert client.get(url("user_info", {"suid": suid})).json()["balance"] == "390.67"
    with django_assert_max_num_queries(3):
        assert client.get(url("get_user", {"suid": suid})).json()["__user"] == LOGIN
    with django_assert_max_num_queries(6):
        assert client.get(url("try_auto_login", {"src_ip": IP})).json()["session_id"]

