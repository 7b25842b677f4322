"""Generic ORM calls through /system_api/ (method1=objects.*): sent the way Carbon's 1C
modules and Carbon's PHP helpers send them, read the way they read them — the old API's
nested envelope ``result.result`` — run by REST v2's executor and whitelist."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest
from django.utils import timezone

from asr_billing.finance.models import Operation
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Group, Subscriber
from tests.rest_v2.conftest import db_state as full_db_state

from .conftest import url

pytestmark = pytest.mark.django_db

BASE_PSW = "basetestpsw"  # demo homes (and the test home) set network['api.base.psw']


@pytest.fixture
def books(make_subscriber, group, operator):
    """Two subscribers, one known to 1C, with payments; one payment 1C imported."""
    known = make_subscriber(name="ООО Ромашка", code1c="00-00003107", email="buh@romashka.ru")
    other = make_subscriber(name="Петров Пётр")
    paid = payment_register(subscriber=known, amount=Decimal("1500.00"), actor="t",
                            operator=operator, external_id="T-1")
    Operation.objects.filter(pk=paid.operation.pk).update(code1c="2023_000017", synced_1c=True)
    payment_register(subscriber=known, amount=Decimal("200.50"), actor="t")
    payment_register(subscriber=other, amount=Decimal("10.00"), actor="t")
    return {"known": known, "other": other, "paid": paid.operation, "group": group}


def one_c(client, model: str, arg1: str, *, fields1: str | None = None):
    """The 1C module's request, glued as ПолучитьКонтрагентаПоКоду / ПолучитьОперациюПоКоду
    and ОтправитьRestЗапрос build it: un-encoded JSON, then format, context and psw."""
    query = f"model={model}&method1=objects.filter&arg1={arg1}"
    if fields1 is not None:
        query += f"&fields1={fields1}"
    query += "&format=json&context=api_1c&psw=1ctestpsw"
    return client.get("/system_api/?" + query, REMOTE_ADDR="127.0.0.1")


def test_1c_contractor_by_code(client, rest_answer, books):
    # CODE C-1C ПолучитьКонтрагентаПоКоду: data.Получить("result").Получить("result")
    known = books["known"]
    response = one_c(client, "Abonents", '{"code1c":"00-00003107"}')
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["result"]
    assert list(body["result"]) == ["result"]
    found = body["result"]["result"]
    assert len(found) == 1
    assert found[0]["pk"] == known.pk
    assert found[0]["model"] == "Abonents"
    assert found[0]["fields"]["code1c"] == "00-00003107"
    assert found[0]["fields"]["name"] == "ООО Ромашка"
    assert found[0]["fields"]["contract_number"] == known.contract_number
    assert found[0]["fields"]["email"] == "buh@romashka.ru"
    assert found[0]["fields"]["account_id"] == known.pk
    # One executor, two envelopes: the objects are exactly REST v2's.
    assert found == rest_answer("Abonents", ("objects.filter", {"code1c": "00-00003107"}))


def test_1c_operation_by_code_with_fields1(client, books):
    # CODE C-1C ПолучитьОперациюПоКоду: ...&fields1=["op_id"], reads result.result
    paid = books["paid"]
    response = one_c(client, "FinanceOperations", '{"code1c":"2023_000017"}',
                     fields1='["op_id"]')
    assert response.json() == {"result": {"result": [
        {"pk": paid.pk, "model": "FinanceOperations", "fields": {"op_id": paid.pk}},
    ]}}


def test_1c_code_nobody_has_is_an_empty_list(client, books):
    before = full_db_state()
    response = one_c(client, "Abonents", '{"code1c":"00-99999999"}')
    assert response.json() == {"result": {"result": []}}
    assert full_db_state() == before


def get_field(res: dict, field: str):
    """Carbon's PHP helper (billing_api_tools, api_main.php) API::get_field(), line for
    line: json_decode($content, true), then $res['result']['result'][0]['pk'] for "pk",
    else $res['result']['result'][0]['fields'][$field]."""
    if field == "pk":
        return res["result"]["result"][0][field]
    return res["result"]["result"][0]["fields"][field]


def php_call_api(client, context: str, params: dict):
    """API::__call_api with $system_api: $params + format=json, hash_key (null: dropped by
    http_build_query), psw from config.json's network['api.<context>.psw'][0], context;
    http_build_query URL-encodes every value; GET through curl."""
    params = {**params, "format": "json", "psw": BASE_PSW, "context": context}
    response = client.get("/system_api/?" + urlencode(params), REMOTE_ADDR="127.0.0.1")
    return json.loads(response.content)


def test_php_get_field_on_groups_and_subscribers(client, books):
    # CODE C-TOOLS api_main.php: call_func('objects.filter', {"is_folder": 1}, 'Abonents')
    # (arr_to_args = json_encode), then get_field($res, 'name') / get_field($res, 'pk').
    group = books["group"]
    Group.objects.create(name="Дом 5", parent=group)
    res = php_call_api(client, "base", {"model": "Abonents", "arg1": '{"is_folder":1}',
                                        "method1": "objects.filter"})
    assert get_field(res, "pk") == group.pk
    assert get_field(res, "name") == "Test group"
    assert get_field(res, "is_folder") == 1
    assert get_field(res, "parent_id") is None
    res = php_call_api(client, "base", {"model": "Abonents", "arg1": '{"is_folder":0}',
                                        "method1": "objects.filter"})
    assert get_field(res, "pk") == books["known"].pk
    assert get_field(res, "name") == "ООО Ромашка"
    assert get_field(res, "code1c") == "00-00003107"


def test_php_get_field_on_get_and_fields(client, books):
    # objects.get answers one object, not a list: get_field's [0] finds nothing there, so
    # PHP scripts use objects.filter; what objects.get answers is REST v2's object.
    known = books["known"]
    res = php_call_api(client, "base", {"model": "Abonents", "arg1": json.dumps({"id": known.pk}),
                                        "method1": "objects.filter",
                                        "fields1": '["name","account__balance"]'})
    assert get_field(res, "pk") == known.pk
    assert get_field(res, "name") == "ООО Ромашка"
    assert get_field(res, "account") == {"pk": known.pk, "model": "AdminAccounts",
                                         "fields": {"balance": "1700.50"}}
    assert get_field(res, "account_id") == known.pk
    res = php_call_api(client, "base", {"model": "Abonents", "arg1": json.dumps({"id": known.pk}),
                                        "method1": "objects.get", "fields1": '["name"]'})
    assert res == {"result": {"result": {"pk": known.pk, "model": "Abonents",
                                         "fields": {"name": "ООО Ромашка"}}}}


@pytest.fixture
def rest_answer(client):
    """What REST v2 answers for the same chain (its ``result``)."""

    def answer(model, *steps, fields=None):
        data = {}
        for number, (method, arg) in enumerate(steps, start=1):
            data[f"method{number}"] = method
            data[f"arg{number}"] = json.dumps(arg)
        if fields is not None:
            data["fields"] = json.dumps(fields)
        body = client.post(f"/rest_api/v2/{model}/", data, REMOTE_ADDR="127.0.0.1").json()
        return body["result"]

    return answer


def base(client, *steps, model="Abonents", fmt="json", extra=None):
    """A chain under context=base, URL-encoded (method1/arg1, method2/arg2, …)."""
    params = {"model": model}
    for number, (method, arg) in enumerate(steps, start=1):
        params[f"method{number}"] = method
        if arg is not None:
            params[f"arg{number}"] = arg if isinstance(arg, str) else json.dumps(arg)
    params.update(extra or {})
    params.update({"context": "base", "psw": BASE_PSW})
    if fmt is not None:
        params["format"] = fmt
    return client.get("/system_api/?" + urlencode(params), REMOTE_ADDR="127.0.0.1")


def test_every_read_method_and_chained_count(client, books):
    known, other = books["known"], books["other"]
    ids = sorted([known.pk, other.pk])

    def pks(response):
        return [row["pk"] for row in response.json()["result"]["result"]]

    assert pks(base(client, ("objects.all", None))) == ids
    assert pks(base(client, ("objects.exclude", {"id": known.pk}))) == [other.pk]
    assert base(client, ("objects.count", None)).json() == {"result": {"result": 2}}
    assert base(client, ("objects.filter", {"name__icontains": "Ромашка"}),
                ("count", {})).json() == {"result": {"result": 1}}
    response = base(client, ("objects.filter", {"abonent_id": known.pk}), ("count", None),
                    model="FinanceOperations")
    assert response.json() == {"result": {"result": 2}}
    response = base(client, ("objects.all", None), ("order_by", ["-id"]), ("first", None),
                    extra={"fields3": '["name"]'})
    assert response.json() == {"result": {"result": {
        "pk": ids[-1], "model": "Abonents",
        "fields": {"name": Subscriber.objects.get(pk=ids[-1]).name}}}}
    response = base(client, ("objects.get", {"id": str(known.pk)}),
                    ("get_balance_until_date", {}))
    assert set(response.json()["result"]["result"]) == {"enough_to_date", "days_until"}
    # limit/offset page a list as in REST v2
    assert pks(base(client, ("objects.all", None), extra={"limit": "1", "offset": "1"})) == [
        ids[1]]


def test_model_name_case_and_xml_without_format(client, books):
    known = books["known"]
    response = base(client, ("objects.filter", {"code1c": "00-00003107"}), model="abonents",
                    fmt=None, extra={"fields1": '["code1c"]'})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="utf-8"?>\n<response><result><result><item>'
        f"<pk>{known.pk}</pk><model>Abonents</model><fields><code1c>00-00003107</code1c>"
        "</fields></item></result></result></response>\n"
    )


def test_cp1251_and_unencoded_plus_in_arg1(client, make_subscriber):
    # 1C's URLEncode writes Cyrillic as cp1251 bytes; scripts glue "+" un-encoded.
    make_subscriber(name="Касса", phone="+79001234567")
    arg1 = "{%22name%22:%22" + quote("Касса".encode("cp1251")) + "%22}"  # %CA%E0%F1%F1%E0
    response = client.get(
        f"/system_api/?model=Abonents&method1=objects.filter&arg1={arg1}"
        "&fields1=[%22name%22]&format=json&context=api_1c&psw=1ctestpsw",
        REMOTE_ADDR="127.0.0.1")
    assert [row["fields"] for row in response.json()["result"]["result"]] == [{"name": "Касса"}]
    response = client.get(
        '/system_api/?model=Abonents&method1=objects.filter&arg1={"phone":"+79001234567"}'
        '&fields1=["phone"]&format=json&context=api_1c&psw=1ctestpsw', REMOTE_ADDR="127.0.0.1")
    assert [row["fields"] for row in response.json()["result"]["result"]] == [
        {"phone": "+79001234567"}]


def test_post_form_and_json_body(client, books):
    known = books["known"]
    response = client.post(
        "/system_api/", {"model": "Abonents", "method1": "objects.filter",
                         "arg1": '{"code1c":"00-00003107"}', "fields1": '["name"]',
                         "context": "api_1c", "psw": "1ctestpsw", "format": "json"},
        REMOTE_ADDR="127.0.0.1")
    assert response.json() == {"result": {"result": [
        {"pk": known.pk, "model": "Abonents", "fields": {"name": "ООО Ромашка"}}]}}
    response = client.post(
        "/system_api/", {"model": "Abonents", "method1": "objects.filter",
                         "arg1": {"code1c": "00-00003107"}, "fields1": ["name"],
                         "context": "base", "psw": BASE_PSW, "format": "json"},
        content_type="application/json", REMOTE_ADDR="127.0.0.1")
    assert response.json()["result"]["result"][0]["fields"] == {"name": "ООО Ромашка"}


# --- refusals: the error the clients read, and nothing changed


def refused(response, text: str, *, status: int = 200) -> None:
    assert response.status_code == status
    assert response.json() == {"error_text": text, "error": text}


@pytest.mark.parametrize(
    ("steps", "extra", "text"),
    [
        ([("objects.filter", {"password": "x"})], {},
         'Unknown field "password" for Abonents'),
        ([("objects.filter", {"name__regex": ".*"})], {},
         'Lookup "regex" is not allowed on Abonents.name (allowed: exact, gt, gte, icontains, '
         "in, isnull, lt, lte, range)"),
        ([("objects.filter", '{"code1c":')], {}, "arg1 is not valid JSON"),
        ([("objects.filter", ["code1c"])], {}, "objects.filter expects a JSON object"),
        ([("objects.get", {"id": 0})], {}, "Abonents matching query does not exist."),
        ([("objects.all", None)], {"fields1": '["password"]'},
         'Unknown field "password" for Abonents'),
        ([("objects.all", None), ("count", None)], {"fields1": '["name"]'},
         "fields1: only the last method's answer is returned; name its fields as fields2"),
        ([("objects.delete", {})], {},
         'Method "objects.delete" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
        ([("objects.all", None), ("update", {"name": "x"})], {},
         'method2 update: Method "update" is not allowed on a list of Abonents (allowed '
         "here: filter, exclude, get, all, order_by, count, first)"),
        ([("objects.get", {"id": "SUB"}), ("set", {"email": "x@example.com"}), ("save", {})],
         {}, "method2 set: set changes data, and this API only reads; write through REST "
             "API v2"),
        ([("objects.get", {"id": "SUB"}), ("add_payment", {"SUM_IN": "600"})], {},
         "method2 add_payment: add_payment changes data, and this API only reads; write "
         "through REST API v2"),
    ],
)
def test_refusals_change_nothing(client, books, steps, extra, text):
    pk = books["known"].pk
    steps = [(m, {k: (pk if v == "SUB" else v) for k, v in a.items()} if isinstance(a, dict)
              else a) for m, a in steps]
    before = full_db_state()
    refused(base(client, *steps, extra=extra), text)
    assert full_db_state() == before


def test_writes_are_refused_with_post_too(client, books):
    known = books["known"]
    before = full_db_state()
    response = client.post("/system_api/", {
        "model": "AttributeValues", "method1": "objects.create",
        "arg1": json.dumps({"abonent_id": known.pk, "attribute_id": 4, "attribute_value": "1"}),
        "context": "base", "psw": BASE_PSW, "format": "json"}, REMOTE_ADDR="127.0.0.1")
    refused(response, "objects.create changes data, and this API only reads; write through "
                      "REST API v2")
    response = client.post("/system_api/", {
        "model": "Users", "method1": "objects.get", "arg1": '{"id": 1}',
        "method2": "set_password", "arg2": '{"psw": "x"}',
        "context": "api_1c", "psw": "1ctestpsw", "format": "json"}, REMOTE_ADDR="127.0.0.1")
    refused(response, "method1 objects.get: Users matching query does not exist.")
    assert full_db_state() == before


def test_unknown_or_missing_model(client, books):
    before = full_db_state()
    refused(base(client, ("objects.all", None), model="Secrets"),
            'Unknown model "Secrets"; GET /rest_api/v2/ lists them')
    response = client.get("/system_api/?method1=objects.all&context=base&psw=basetestpsw"
                          "&format=json", REMOTE_ADDR="127.0.0.1")
    refused(response, "model is required for objects.* calls, e.g. model=Abonents")
    assert full_db_state() == before


def test_no_format_error_is_xml(client, books):
    response = base(client, ("objects.filter", {"password": "x"}), fmt=None)
    assert response.status_code == 200
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="utf-8"?>\n<response>'
        '<error_text>Unknown field "password" for Abonents</error_text>'
        '<error>Unknown field "password" for Abonents</error>'
        "</response>\n"
    )


@pytest.mark.parametrize("context", ["web", "collector", "asr_fiscal", "cabinet", "webcash"])
def test_other_contexts_may_not_use_the_orm(client, config_edit, books, context):
    # A cabinet may call context=web without psw; it must not read every subscriber.
    config_edit("network", f"api.{context}.psw", "ctxpsw")
    response = client.get(url("objects.filter", {"is_folder": 0}, context=context, psw="ctxpsw",
                              fmt="json"), REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 403
    assert response.json() == {"error": f"Method objects.filter is not available in "
                                        f"context={context}"}
    response = client.get(url("objects.filter", {"is_folder": 0}, context=context,
                              psw="ctxpsw"), REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 403
    assert response.content.decode() == (
        f"Method objects.filter is not available in context={context}")


def test_access_checks_come_first(client, config_edit, books):
    response = client.get(url("objects.all", None, context="base", psw="wrong", fmt="json"),
                          REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 403
    assert response.json() == {"error": "Access denied: wrong psw for context=base"}
    response = client.get(url("objects.all", None, context="base", psw=BASE_PSW, fmt="json"),
                          REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 403
    config_edit("network", "api.context", "web collector")
    response = client.get(url("objects.all", None, context="base", psw=BASE_PSW),
                          REMOTE_ADDR="127.0.0.1")
    assert response.content.decode() == "Context=base is not defined"


def test_call_is_logged_with_the_chain_and_no_secret(client, books, settings, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="asr_billing.system_api"):
        base(client, ("objects.filter", {"code1c": "00-00003107"}), ("count", None))
        client.get(url("objects.all", None, context="base", psw=BASE_PSW, fmt="json",
                       model="Users", method2="check_pass", arg2='{"passwd":"hunter2"}'),
                   REMOTE_ADDR="127.0.0.1")
    lines = [r.getMessage() for r in caplog.records if r.name == "asr_billing.system_api"]
    assert lines[0].startswith("ip=127.0.0.1 context=base method=objects.filter,count "
                               "status=200 outcome=ok ms=")
    assert lines[0].endswith('args={"arg1": {"code1c": "00-00003107"}}')
    assert "hunter2" not in "\n".join(lines)
    assert BASE_PSW not in "\n".join(lines)


def test_dates_in_lookups_as_rest_v2(client, books):
    today = timezone.localdate().isoformat()
    response = base(client, ("objects.filter", {"abonent_id": books["known"].pk,
                                                "op_date__range": ["2000-01-01",
                                                                   f"{today} 23:59:59"]}),
                    ("count", None), model="FinanceOperations")
    assert response.json() == {"result": {"result": 2}}
