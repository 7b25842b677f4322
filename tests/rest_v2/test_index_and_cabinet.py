"""GET /rest_api/v2/ (the model list), the web_cabinet bridge and cabinet sessions."""

from __future__ import annotations

import json

import pytest

from asr_billing.cabinet import services as cabinet_services
from asr_billing.core.errors import InvalidInput
from asr_billing.system_api import registry

pytestmark = pytest.mark.django_db


def test_index_lists_models_and_fields(client):
    response = client.get("/rest_api/v2/")
    assert response.status_code == 200
    body = response.json()
    assert body["call"] == "/rest_api/v2/"
    models = body["result"]
    assert list(models) == ["Abonents", "Users", "AdminAccounts", "FinanceOperations",
                            "ArchAccountStack", "Tarif", "Usluga", "UsersUsluga",
                            "AttributeValues", "Nas", "Version"]
    assert models["Users"]["fields"]["login"] == {
        "type": "str", "doc": "Login name.", "writable": False, "default": True,
        "lookups": ["exact", "in", "range", "gt", "gte", "lt", "lte", "icontains", "isnull"],
    }
    assert models["Users"]["fields"]["sms"]["writable"] is True
    assert models["Abonents"]["relations"]["parent"]["model"] == "Abonents"
    assert models["Abonents"]["relations"]["users"] == {"model": "Users", "many": True,
                                                       "doc": "Logins."}
    assert sorted(models["Abonents"]["object_methods"]) == ["add_payment",
                                                            "get_balance_until_date"]
    assert models["AttributeValues"]["create"] == ["abonent_id", "attribute_id",
                                                   "attribute_value"]
    text = json.dumps(body)
    for secret in ("password_enc", "radius_secret", "psw_enc"):
        assert secret not in text


def test_index_without_slash_and_wrong_method(client):
    assert client.get("/rest_api/v2").status_code == 200
    assert client.post("/rest_api/v2/").status_code == 405


@pytest.fixture
def echo_function():
    def echo(call):
        if call.args.get("fail"):
            raise InvalidInput("Неверный логин или пароль")
        return {"echo": dict(call.args), "ip": call.source_ip, "model": call.model}

    name = "web_cabinet.rest_v2_test_echo"
    registry.api_function(name, context="web")(echo)
    yield name
    registry._REGISTRY.pop(name, None)


def test_web_cabinet_through_rest(rest, echo_function):
    # CODE C-LARA: POST Users method1=web_cabinet.login -> {"result": ["<JSON string>"]}
    status, body = rest("Users", (echo_function, {"login": "l", "passwd": "p"}))
    assert status == 200
    assert list(body) == ["call", "result"]
    assert json.loads(body["result"][0]) == {
        "echo": {"login": "l", "passwd": "p"}, "ip": "127.0.0.1", "model": "Users"}
    status, body = rest("Users", (echo_function, {"fail": 1}))
    assert json.loads(body["result"][0]) == {"error": "Неверный логин или пароль"}


def test_web_cabinet_with_an_empty_list_arg(rest, echo_function):
    # Carbon's PHP helpers (billing_api_tools) send json_encode(array()) = "[]" for "no
    # arguments"; a non-empty list is still refused.
    status, body = rest("Users", (echo_function, []))
    assert status == 200
    assert json.loads(body["result"][0]) == {"echo": {}, "ip": "127.0.0.1", "model": "Users"}
    _status, body = rest("Users", (echo_function, ["x"]))
    assert body == {"call": "/rest_api/v2/Users/",
                    "error": f"{echo_function} expects a JSON object"}


def test_unknown_web_cabinet_function(rest):
    status, body = rest("Users", ("web_cabinet.no_such_function", {"suid": "x"}))
    assert status == 200
    assert json.loads(body["result"][0]) == {
        "error": "web_cabinet.no_such_function is not available"}
    # The name is not echoed whole (a 2 MB method name used to come back in the answer).
    status, body = rest("Users", ("web_cabinet." + "x" * 100_000, {}))
    assert json.loads(body["result"][0]) == {
        "error": "web_cabinet." + "x" * 47 + "… is not available"}


def test_web_cabinet_needs_post(rest):
    status, _body = rest("Users", ("web_cabinet.login", {}), get=True)
    assert status == 405


def test_web_cabinet_only_on_users(rest):
    _status, body = rest("Abonents", ("web_cabinet.login", {}))
    assert body["error"] == (
        'Method "web_cabinet.login" is not allowed on Abonents (allowed here: objects.filter, '
        "objects.exclude, objects.get, objects.all, objects.count)")


def test_dynamic_session_answer_is_the_cabinet_session(rest, subscriber, make_login,
                                                       monkeypatch):
    # CODE C-NETSP GetOrCreateUserSession: result.fields.suid. The session id is what the
    # cabinet's dynamic_session gives for that login and the caller's address.
    monkeypatch.setattr(
        cabinet_services, "dynamic_session",
        lambda *, login, source_ip: f"suid-{login.login}-{source_ip}")
    login = make_login(subscriber, "testlogin")
    _status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                        ("get_or_create_dynamic_session", "{}"))
    assert body["result"] == {"pk": "suid-testlogin-127.0.0.1", "model": "DynamicSession",
                              "fields": {"suid": "suid-testlogin-127.0.0.1",
                                         "user_id": login.pk}}


def test_calls_are_logged_at_info_without_arguments(rest, subscriber, make_login, config_edit,
                                                     settings):
    config_edit("app", "django.loglevel", "info")
    make_login(subscriber, "testlogin", password="testpsw")
    rest("Users", ("objects.get", {"login": "testlogin"}),
         ("set_password", {"psw": "Sup3rSecret"}))
    rest("Users", ("objects.get", {"login": "testlogin"}), ("check_pass", {"passwd": "x"}),
         ("delete", {}))
    text = settings.ASR_HOME.system_api_log.read_text(encoding="utf-8")
    assert ("rest_v2 127.0.0.1 POST /rest_api/v2/Users/ [objects.get,set_password] 200 ok"
            in text)
    assert ("rest_v2 127.0.0.1 POST /rest_api/v2/Users/ [objects.get,check_pass,delete] 200 "
            'error: method3 delete: Method "delete" cannot be called on a plain value') in text
    assert "Sup3rSecret" not in text
    assert "testpsw" not in text


def test_unexpected_failure_is_a_short_500_with_the_traceback_in_error_log(
        rest, subscriber, monkeypatch, settings):
    def broken(*args, **kwargs):
        raise RuntimeError("boom inside")

    monkeypatch.setattr("asr_billing.finance.selectors.money_lasts_until", broken)
    status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                        ("get_balance_until_date", {}))
    assert (status, body) == (500, {
        "call": "/rest_api/v2/Abonents/",
        "error": "Internal error; the details are in the server's log"})
    log = settings.ASR_HOME.error_log.read_text(encoding="utf-8")
    assert "RuntimeError: boom inside" in log


def test_cabinet_login_and_user_info_through_rest(rest, subscriber, make_login):
    # CODE C-LARA CarbonClient: getProfile (web_cabinet.login), getWebCabinetUserInfo
    make_login(subscriber, "testlogin", password="testpsw")
    status, body = rest("Users", ("web_cabinet.login", {"login": "testlogin",
                                                        "passwd": "testpsw"}))
    assert status == 200
    answer = json.loads(body["result"][0])
    assert answer["user"]["login"] == "testlogin"
    suid = answer["session_id"]
    _status, body = rest("Users", ("web_cabinet.user_info", {"suid": suid}))
    info = json.loads(body["result"][0])
    assert info["tarif_id"] == subscriber.tariff_id
    _status, body = rest("Users", ("web_cabinet.user_info", {"suid": "nope"}))
    assert json.loads(body["result"][0]) == {"error": "Необходимо авторизоваться"}
    _status, body = rest("Users", ("web_cabinet.login", {"login": "testlogin",
                                                         "passwd": "wrong"}))
    assert "error" in json.loads(body["result"][0])


def test_dynamic_session_opens_a_cabinet_session(rest, subscriber, make_login):
    # CODE C-NETSP: get_or_create_dynamic_session -> result.fields.suid, then cabinet calls
    login = make_login(subscriber, "testlogin")
    _status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                         ("get_or_create_dynamic_session", "{}"))
    fields = body["result"]["fields"]
    assert fields["user_id"] == login.pk
    assert body["result"]["pk"] == fields["suid"]
    _status, body = rest("Users", ("web_cabinet.user_info", {"suid": fields["suid"]}))
    assert json.loads(body["result"][0])["tarif_id"] == subscriber.tariff_id


def test_web_cabinet_honours_the_web_context_switch(rest, subscriber, make_login, config_edit):
    # Item 9 of issue 8: an operator who takes `web` out of network['api.context'] turns
    # the cabinet off on both APIs; the refusal is the system API's own text.
    from asr_billing.cabinet.models import AuthThrottle, CabinetSession

    from .conftest import db_state

    make_login(subscriber, "testlogin", password="testpsw")
    config_edit("network", "api.context", "collector api_1c base")
    before = db_state()
    for name, arg in [("web_cabinet.login", {"login": "testlogin", "passwd": "testpsw"}),
                      ("web_cabinet.login", {"login": "testlogin", "passwd": "wrong"}),
                      ("web_cabinet.reset_password", {"login": "testlogin"}),
                      ("web_cabinet.no_such_function", {})]:
        status, body = rest("Users", (name, arg))
        assert (status, body) == (200, {"call": "/rest_api/v2/Users/", "result": [
            '{"error": "Context=web is not defined"}']})
    assert db_state() == before
    assert (CabinetSession.objects.count(), AuthThrottle.objects.count()) == (0, 0)

    config_edit("network", "api.context", "collector api_1c base web")
    _status, body = rest("Users", ("web_cabinet.login", {"login": "testlogin",
                                                         "passwd": "testpsw"}))
    assert json.loads(body["result"][0])["user"]["login"] == "testlogin"
    assert CabinetSession.objects.count() == 1
