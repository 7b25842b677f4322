"""The cabinet's Python API for other adapters, and REST v2's Users calls that use it."""

from __future__ import annotations

import json

from django.utils import translation

from asr_billing.cabinet.api import cabinet_call
from asr_billing.cabinet.models import AuthThrottle, CabinetSession, SessionMethod
from asr_billing.cabinet.services import cabinet_session_get, digest, dynamic_session

from .conftest import LOGIN, PASSWORD


def test_cabinet_call_answers_as_the_system_api(world):
    answer = cabinet_call("login", {"login": LOGIN, "passwd": PASSWORD}, source_ip="10.0.0.5")
    suid = answer["session_id"]
    assert cabinet_call("web_cabinet.user_info", {"suid": suid},
                        source_ip="10.0.0.5")["balance"] == "390.67"
    assert cabinet_call("user_info", {"suid": "nope"}, source_ip="10.0.0.5") == {
        "error": "Необходимо авторизоваться"}
    assert cabinet_call("no_such", {}, source_ip="10.0.0.5") == {
        "error": "Unknown cabinet function: web_cabinet.no_such"}
    # Errors of writing functions are answered, in the language in force.
    with translation.override("en"):
        assert cabinet_call("set_user_usluga", {"suid": suid, "usluga_id": 99999},
                            source_ip="10.0.0.5") == {"error": "Service 99999 does not exist"}
    json.dumps(cabinet_call("get_usluga_list", {"suid": suid}, source_ip="10.0.0.5"))


def test_dynamic_session(world):
    suid = dynamic_session(login=world["login"], source_ip="10.0.0.5")
    session = cabinet_session_get(suid=suid)
    assert (session.key_hash, session.method, session.src_ip) == (
        digest(suid), SessionMethod.DYNAMIC, "10.0.0.5")


def rest(client, model, **form):
    response = client.post(f"/rest_api/v2/{model}/", form)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_rest_v2_web_cabinet_login_and_user_info(client, world):
    """The Laravel client: POST Users method1=web_cabinet.login, json_decode(result[0])."""
    answer = rest(client, "Users", method1="web_cabinet.login",
                  arg1=json.dumps({"login": LOGIN, "passwd": PASSWORD}))
    inner = json.loads(answer["result"][0])
    info = json.loads(rest(client, "Users", method1="web_cabinet.user_info",
                           arg1=json.dumps({"suid": inner["session_id"]}))["result"][0])
    assert info["balance"] == "390.67" and info["in_block"] == "0"


def test_rest_v2_failed_login_is_counted(client, world):
    answer = rest(client, "Users", method1="web_cabinet.login",
                  arg1=json.dumps({"login": LOGIN, "passwd": "guess"}))
    assert json.loads(answer["result"][0]) == {"error": "Неверный логин или пароль"}
    # The REST request ran in a transaction: the failure count was kept all the same.
    assert AuthThrottle.objects.get(scope="login").failures == 1


def test_rest_v2_dynamic_session(client, world):
    """The NetSpace client: Users objects.get {"login"} + get_or_create_dynamic_session."""
    answer = rest(client, "Users", method1="objects.get", arg1=json.dumps({"login": LOGIN}),
                  method2="get_or_create_dynamic_session", arg2="{}")
    suid = answer["result"]["fields"]["suid"]
    assert CabinetSession.objects.get().method == SessionMethod.DYNAMIC
    assert cabinet_call("get_user", {"suid": suid}, source_ip="127.0.0.1")["__user"] == LOGIN
