"""Access checks in order: IP allow-list, context enabled, psw, method of the context;
config edits apply to the next request; refusals change nothing."""

from __future__ import annotations

import pytest

from asr_billing.finance.models import Operation
from asr_billing.system_api import registry
from asr_billing.system_api.params import Call

from .conftest import db_state, url

NEGBAL = "collector_manager.users_negbal"
NAS = {"nas_ip": "10.0.0.1"}


@pytest.fixture
def echo_web():
    """A stand-in web_cabinet function (the real ones register from the cabinet app)."""

    def echo(call: Call):
        return {"args": dict(call.args), "suid": call.suid}

    registry.api_function("web_cabinet.test_echo", context="web")(echo)
    yield
    registry._REGISTRY.pop("web_cabinet.test_echo", None)


def test_allowed_ip_v4_and_v6(call_api, db):
    assert call_api(NEGBAL, NAS, context="collector").status_code == 200
    assert call_api(NEGBAL, NAS, context="collector", remote_addr="::1").status_code == 200


@pytest.mark.parametrize("fmt", [None, "json"])
def test_ip_not_allowed(call_api, db, fmt):
    response = call_api(NEGBAL, NAS, context="collector", remote_addr="192.0.2.5", fmt=fmt)
    assert response.status_code == 403
    text = "Access denied: 192.0.2.5 is not in the system API allow-list"
    if fmt == "json":
        assert response.json() == {"error": text}
    else:
        assert response.content.decode() == text


def test_ip_is_checked_before_anything_else(call_api, db):
    # Even an unknown context and a wrong psw get only the IP answer.
    response = call_api(NEGBAL, NAS, context="nope", psw="x", remote_addr="192.0.2.5")
    assert response.content.decode().startswith("Access denied: 192.0.2.5")


@pytest.mark.parametrize("body, content_type", [
    ("[1,2", "application/json"),
    ("x", "multipart/form-data"),  # no boundary
])
def test_ip_is_checked_before_the_body_is_judged(client, db, body, content_type):
    # A caller outside the allow-list learns nothing, not even that its body is unreadable.
    response = client.post("/system_api/?context=collector", body, content_type=content_type,
                           REMOTE_ADDR="192.0.2.5")
    assert (response.status_code, response.content.decode()) == (
        403, "Access denied: 192.0.2.5 is not in the system API allow-list")


def test_cidr_and_live_edit(call_api, db, config_edit):
    assert call_api(NEGBAL, NAS, context="collector", remote_addr="10.8.1.7").status_code == 403
    config_edit("network", "api.allowed_ips", "127.0.0.1 10.8.0.0/16 2001:db8::/32")
    assert call_api(NEGBAL, NAS, context="collector", remote_addr="10.8.1.7").status_code == 200
    assert call_api(NEGBAL, NAS, context="collector",
                    remote_addr="2001:db8::5").status_code == 200
    assert call_api(NEGBAL, NAS, context="collector", remote_addr="::1").status_code == 403


def test_x_forwarded_for_only_from_trusted_proxies(call_api, db, config_edit):
    spoof = {"X-Forwarded-For": "127.0.0.1"}
    assert call_api(NEGBAL, NAS, context="collector", remote_addr="192.0.2.5",
                    headers=spoof).status_code == 403
    config_edit("network", "api.allowed_ips", "10.9.9.9")
    config_edit("network", "api.trusted_proxies", "192.0.2.5 192.0.2.6")
    for forwarded, status in [
        ("10.9.9.9", 200),
        ("1.2.3.4, 10.9.9.9", 200),  # the client the proxy saw is the rightmost
        ("10.9.9.9, 1.2.3.4", 403),  # a client cannot prepend its way in
        ("10.9.9.9, 192.0.2.6", 200),  # proxies in the chain are skipped
        ("garbage", 403),
    ]:
        response = call_api(NEGBAL, NAS, context="collector", remote_addr="192.0.2.5",
                            headers={"X-Forwarded-For": forwarded})
        assert response.status_code == status, forwarded
    # The proxy itself is not allowed; without the header it is refused.
    assert call_api(NEGBAL, NAS, context="collector", remote_addr="192.0.2.5").status_code == 403


@pytest.mark.parametrize("context", ["asr_fiscal", "asr_cabinet", "Collector", ""])
def test_context_not_defined_exact_text(call_api, db, config_edit, context):
    config_edit("network", "api.context", "collector api_1c")
    response = call_api("asr_fiscal_manager.act_pay", {"act": "CHECK"}, context=context,
                        psw="fiscalpsw123")
    assert response.status_code == 403
    assert response.content.decode() == f"Context={context} is not defined"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    response = call_api("asr_fiscal_manager.act_pay", {}, context=context, psw="x", fmt="json")
    assert response.json() == {"error": f"Context={context} is not defined"}


def test_context_enabled_live(call_api, db, config_edit):
    config_edit("network", "api.context", "web")
    assert call_api(NEGBAL, NAS, context="collector").content == (
        b"Context=collector is not defined")
    config_edit("network", "api.context", "web collector")
    assert call_api(NEGBAL, NAS, context="collector").status_code == 200


@pytest.mark.parametrize("psw, text", [
    (None, "Access denied: psw is required for context=collector"),
    ("wrong", "Access denied: wrong psw for context=collector"),
    ("COLLECTORTESTPSW", "Access denied: wrong psw for context=collector"),
    ("collectortestpsw ", "Access denied: wrong psw for context=collector"),
    ("пароль", "Access denied: wrong psw for context=collector"),
])
def test_wrong_or_missing_psw(call_api, db, psw, text):
    response = call_api(NEGBAL, NAS, context="collector", psw=psw)
    assert response.status_code == 403
    assert response.content.decode() == text


def test_password_edit_applies_live(call_api, db, config_edit):
    config_edit("network", "api.collector.psw", "n3wPassw0rd")
    assert call_api(NEGBAL, NAS, context="collector").status_code == 403
    assert call_api(NEGBAL, NAS, context="collector", psw="n3wPassw0rd").status_code == 200


def test_context_without_password_is_closed(call_api, db, config_edit):
    config_edit("network", "api.collector.psw", "")
    for psw in (None, "", "x"):
        assert call_api(NEGBAL, NAS, context="collector", psw=psw).status_code == 403


def test_broken_config_keeps_the_last_good_one(call_api, db, config_edit):
    from django.conf import settings

    good = settings.ASR_HOME.config_file.read_text(encoding="utf-8")
    config_edit.write_raw(good + "network['api.context']='broken\n")
    assert call_api(NEGBAL, NAS, context="collector").status_code == 200
    assert "config not applied" in settings.ASR_HOME.error_log.read_text(encoding="utf-8")


def test_method_of_another_context_is_refused(call_api, db):
    response = call_api(NEGBAL, NAS, context="api_1c")
    assert response.status_code == 403
    assert response.content.decode() == (
        "Method collector_manager.users_negbal is not available in context=api_1c")
    response = call_api("api_1c_manager.api_1c_get_abonents", {}, context="asr_fiscal")
    assert response.status_code == 403


def test_unknown_and_missing_method(call_api, client, db):
    response = call_api("collector_manager.users_all", NAS, context="collector")
    assert response.status_code == 404
    assert response.content.decode() == (
        "Unknown method: collector_manager.users_all. Methods of context=collector: "
        "collector_manager.collector_iptv_accept_list_get, collector_manager.users_blocked, "
        "collector_manager.users_logged, collector_manager.users_negbal")
    response = client.get("/system_api/?context=collector&psw=collectortestpsw&format=json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "method1 is required, e.g. method1=collector_manager.users_negbal"}


def test_refused_payment_changes_nothing(call_api, subscriber, operator):
    before = db_state()
    arg1 = {"contract_number": subscriber.contract_number, "sum_in": "100",
            "pay_operator": "SBERBANK_OSMP", "pay_id_str": "1", "act": "PAY"}
    assert call_api("asr_fiscal_manager.act_pay", arg1, context="asr_fiscal",
                    psw="bad").status_code == 403
    assert call_api("asr_fiscal_manager.act_pay", arg1, context="asr_fiscal",
                    remote_addr="203.0.113.1").status_code == 403
    assert call_api("asr_fiscal_manager.act_pay", arg1, context="collector").status_code == 403
    assert db_state() == before
    assert call_api("asr_fiscal_manager.act_pay", arg1, context="asr_fiscal").status_code == 200
    assert Operation.objects.count() == 1


def test_web_without_psw_from_an_allowed_ip(call_api, db, echo_web, config_edit):
    config_edit("network", "api.web.psw", "webpsw1")
    ok = call_api("web_cabinet.test_echo", {"x": 1}, context="web", psw=None, model="users",
                  fmt="json")
    assert ok.status_code == 200 and ok.json() == {"args": {"x": 1}, "suid": ""}
    assert call_api("web_cabinet.test_echo", {}, context="web", psw="webpsw1",
                    fmt="json").status_code == 200
    wrong = call_api("web_cabinet.test_echo", {}, context="web", psw="nope", fmt="json")
    assert wrong.status_code == 403
    assert wrong.json() == {"error": "Access denied: wrong psw for context=web"}
    far = call_api("web_cabinet.test_echo", {}, context="web", psw=None,
                   remote_addr="198.51.100.1")
    assert far.status_code == 403


def test_top_level_suid_reaches_the_function(call_api, db, echo_web):
    # The old PHP helper: suid as a top-level parameter; newer clients put it in arg1.
    body = call_api("web_cabinet.test_echo", {}, context="web", psw=None, fmt="json",
                    suid="54ds34jklji8ufds8u945jkl").json()
    assert body == {"args": {"suid": "54ds34jklji8ufds8u945jkl"},
                    "suid": "54ds34jklji8ufds8u945jkl"}
    inside = call_api("web_cabinet.test_echo", {"suid": "in-arg1"}, context="web", psw=None,
                      fmt="json", suid="top").json()
    assert inside["suid"] == "in-arg1"


def test_registering_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        registry.api_function("collector_manager.users_negbal", context="collector")(
            lambda call: None)
    with pytest.raises(ValueError):
        registry.api_function("no_dot", context="x")


def test_only_get_and_post(client, db):
    address = url(NEGBAL, NAS, context="collector")
    response = client.put(address)
    assert response.status_code == 405 and response["Allow"] == "GET, POST"


def test_no_parameters_at_all_get_the_usage(client, english):
    answer = client.get("/system_api/")
    assert answer.status_code == 400
    text = answer.content.decode()
    assert text.startswith("asr-billing system API") and "Usage: /system_api/?context=" in text
    refused = client.get("/system_api/", REMOTE_ADDR="203.0.113.9")
    assert "allow-list" in refused.content.decode()
