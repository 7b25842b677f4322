"""Requests the way real clients send them: GET/POST, un-encoded arg1, loose model names,
string numbers, 1C dates; and the lenient parsing helpers themselves."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from asr_billing.subscribers.services import subscriber_block
from asr_billing.system_api.params import Args, ArgumentError, parse_arg1, raw_arg1
from asr_billing.system_api.render import to_xml

from .conftest import db_state, url

NEGBAL = "collector_manager.users_blocked"
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def blocked(subscriber, make_login):
    make_login(subscriber, "blk", ip="10.20.30.9")
    subscriber_block(subscriber=subscriber, actor="test")
    return subscriber


@pytest.mark.parametrize("model", ["Abonents", "abonents", "Users", "users", "Collector", ""])
def test_model_is_matched_loosely(call_api, blocked, model):
    response = call_api(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector", model=model)
    assert response.content.decode().split(" ")[:2] == ["10.20.30.9", "blk"]


def test_arg1_encoded_or_not(client, blocked):
    raw = client.get(url(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector"))
    encoded = client.get(url(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector", encode=True))
    assert raw.content == encoded.content != b""


@pytest.mark.parametrize("arg1", ['{"nas_ip": 10.0.0.1}', '{"nas_ip":"10.0.0.1"'])
def test_broken_json_is_an_error(call_api, blocked, arg1):
    response = call_api(NEGBAL, arg1, context="collector", fmt="json")
    assert response.json() == {"error": "arg1 is not valid JSON"}


@pytest.mark.parametrize("arg1", [None, "", "{}", "null", "[]", "[ ]", "%5B%5D"])
def test_no_arguments(call_api, blocked, arg1):
    response = call_api(NEGBAL, arg1, context="collector", fmt="json")
    assert response.json() == {"error": "Argument nas_ip is required"}


@pytest.mark.parametrize("arg1", ['["10.0.0.1"]', "[{}]", "[[]]", '"x"', "1"])
def test_arg1_must_be_an_object(call_api, blocked, arg1):
    before = db_state()
    response = call_api(NEGBAL, arg1, context="collector", fmt="json")
    assert response.json() == {
        "error": 'arg1 must be a JSON object such as {"nas_ip": "10.0.0.1"}'}
    assert db_state() == before


def test_carbon_php_helper_sends_an_empty_list(client):
    # carbonsoft/billing_api_tools web.php: call_func('web_cabinet.get_vpn_const', array(),
    # 'Users') -> arg1=json_encode(array()) = "[]", URL-encoded by http_build_query.
    response = client.get(
        "/system_api/?model=Users&arg1=%5B%5D&method1=web_cabinet.get_vpn_const"
        "&format=json&context=web"
    )
    assert response.status_code == 200
    assert response.json()["own_block_max_days"] == 90


def test_json_body_with_an_empty_list_arg1(client, blocked):
    body = {"method1": NEGBAL, "arg1": [], "context": "collector", "psw": "collectortestpsw",
            "format": "json"}
    response = client.post("/system_api/", json.dumps(body), content_type="application/json")
    assert response.json() == {"error": "Argument nas_ip is required"}


def test_post_form_body(client, blocked):
    data = {"model": "Abonents", "method1": NEGBAL, "arg1": json.dumps({"nas_ip": "10.0.0.1"}),
            "context": "collector", "psw": "collectortestpsw"}
    response = client.post("/system_api/", data)
    assert response.status_code == 200
    assert response.content.decode().startswith("10.20.30.9 blk ")
    # urlencoded body with a raw JSON arg1
    body = ('model=Abonents&method1=' + NEGBAL + '&arg1={"nas_ip":"10.0.0.1"}'
            '&context=collector&psw=collectortestpsw&format=json')
    response = client.post("/system_api/", body, content_type="application/x-www-form-urlencoded")
    assert response.json()[0]["login"] == "blk"


def test_post_with_everything_in_the_query_string(client, blocked):
    # The Go cabinet client: POST, parameters in the URL, empty body.
    response = client.post(url(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector", fmt="json"))
    assert response.json()[0]["login"] == "blk"


def test_post_json_body(client, blocked):
    body = {"method1": NEGBAL, "arg1": {"nas_ip": "10.0.0.1"}, "context": "collector",
            "psw": "collectortestpsw", "format": "json"}
    response = client.post("/system_api/", body, content_type="application/json")
    assert response.json()[0]["login"] == "blk"
    bad = client.post("/system_api/", "[1,2", content_type="application/json")
    assert bad.status_code == 400


def test_without_trailing_slash(client, blocked):
    response = client.get(url(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector").replace(
        "/system_api/?", "/system_api?"))
    assert response.status_code == 200 and response.content.startswith(b"10.20.30.9")


def test_csrf_is_not_required(blocked):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/system_api/", {"method1": NEGBAL, "arg1": '{"nas_ip":"10.0.0.1"}',
                                            "context": "collector", "psw": "collectortestpsw"})
    assert response.status_code == 200


# --- parsing helpers ---------------------------------------------------------------

def test_raw_arg1_keeps_plus_and_ampersand():
    query = b'model=x&arg1={"name":"A&B","phone":"+7900"}&context=api_1c&psw=p'
    raw = raw_arg1(query)
    assert raw == b'{"name":"A&B","phone":"+7900"}'
    assert parse_arg1('{"name":"A', raw) == {"name": "A&B", "phone": "+7900"}


def test_repeated_parameters_the_last_one_counts(client, blocked):
    # As Django's QueryDict (and so Carbon) reads every parameter: arg1 is no exception,
    # whether it is sent raw or encoded.
    for encode in (False, True):
        first = url(NEGBAL, {"nas_ip": "10.0.0.9"}, context="collector", fmt="json",
                    encode=encode)
        second = "&arg1=" + ('{"nas_ip":"10.0.0.1"}' if not encode
                             else "%7B%22nas_ip%22%3A%2210.0.0.1%22%7D")
        assert [row["login"] for row in client.get(first + second).json()] == ["blk"]
    assert raw_arg1(b'arg1={"a":1}&context=x&arg1={"a":"&b"}&psw=p') == b'{"a":"&b"}'


def test_encoded_plus_means_space():
    raw = b"%7B%22name%22%3A%22A+B%22%7D"
    assert parse_arg1('{"name":"A B"}', raw) == {"name": "A B"}


def test_cp1251_percent_encoding():
    raw = "".join(f"%{b:02X}" for b in '{"descr":"Касса"}'.encode("cp1251")).encode()
    assert parse_arg1("garbled", raw) == {"descr": "Касса"}


def test_unstorable_characters_are_replaced():
    assert parse_arg1('{"a":"x\\u0000y\\ud800"}', None) == {"a": "x\ufffdy\ufffd"}


def test_nesting_is_limited():
    deep = "[" * 30 + "]" * 30
    with pytest.raises(ArgumentError, match="nested too deeply"):
        parse_arg1('{"a":' + deep + "}", None)
    with pytest.raises(ArgumentError, match="not valid JSON"):
        parse_arg1("[" * 100000, None)


@pytest.mark.parametrize("value, number", [
    ("1361", 1361), (1361, 1361), ("1\u00a0361", 1361), ("1 361", 1361), (" 42 ", 42),
    ("7.0", 7), (Decimal("7.00"), 7), ("-3", -3),
])
def test_integers(value, number):
    assert Args({"n": value}).integer("n") == number


@pytest.mark.parametrize("value", ["12a", "1.5", True, [1], {"a": 1}, "1e3", "", "٣"])
def test_not_integers(value):
    args = Args({"n": value})
    if value == "":
        assert args.integer("n") is None
    else:
        with pytest.raises(ArgumentError):
            args.integer("n")


@pytest.mark.parametrize("value, shown", [
    # int(Decimal("1E+999999")) takes minutes (a gunicorn worker was killed by its
    # timeout on {"op_id": 1e999999}); 1E+99999 is as wrong and fails fast without the fix.
    (Decimal("1E+99999"), "1E+99999"),
    (Decimal("-1E+99999"), "-1E+99999"),
    (10**40, "1" + "0" * 40),
])
def test_integers_with_too_many_digits(value, shown):
    with pytest.raises(ArgumentError) as caught:
        Args({"n": value}).integer("n")
    assert caught.value.message == f"Argument n must be a whole number, not {shown[:59]}…" \
        if len(shown) > 60 else f"Argument n must be a whole number, not {shown}"


def test_huge_exponent_over_http(call_api, db):
    response = call_api("api_1c_manager.api_1c_get_fin_detail", '{"op_id": 1e99999}',
                        context="api_1c", fmt="json")
    text = "Argument op_id must be a whole number, not 1E+99999"
    assert response.json() == {"error_text": text, "error": text}


@pytest.mark.parametrize("value", ["0", "-1", str(2**63)])
def test_object_ids_are_bounded(value):
    with pytest.raises(ArgumentError, match="positive whole number"):
        Args({"id": value}).object_id("id")


@pytest.mark.parametrize("text, expected", [
    ("2023-03-01T00:00:00", datetime(2023, 3, 1, tzinfo=MSK)),
    ("2023-03-01 10:20:30", datetime(2023, 3, 1, 10, 20, 30, tzinfo=MSK)),
    ("2023-03-01", datetime(2023, 3, 1, tzinfo=MSK)),
    ("01.03.2023 0:00:00", datetime(2023, 3, 1, tzinfo=MSK)),
    ("1.3.2023 9:05:00", datetime(2023, 3, 1, 9, 5, tzinfo=MSK)),
    ("01.03.2023", datetime(2023, 3, 1, tzinfo=MSK)),
    ("2023-03-01T00:00:00+00:00", datetime(2023, 3, 1, 3, tzinfo=MSK)),
    ("01.01.0001 0:00:00", None),
])
def test_dates(text, expected):
    from django.utils import timezone

    with timezone.override(MSK):
        assert Args({"d": text}).moment("d") == expected


def test_end_of_day_only_for_dates_without_time():
    from django.utils import timezone

    with timezone.override(MSK):
        assert Args({"d": "03.04.2023"}).moment("d", end_of_day=True) == datetime(
            2023, 4, 3, 23, 59, 59, 999999, tzinfo=MSK)
        assert Args({"d": "03.04.2023 12:00:00"}).moment("d", end_of_day=True) == datetime(
            2023, 4, 3, 12, tzinfo=MSK)


@pytest.mark.parametrize("text", ["31.02.2023", "2023-13-01", "1.1.1000", "01.03.23x", "soon"])
def test_bad_dates(text):
    with pytest.raises(ArgumentError):
        Args({"d": text}).moment("d")


def test_xml_rendering():
    assert to_xml({"a": [1, None, True], "1c": "x<y", "b": {"c": Decimal("1.50")}}) == (
        '<?xml version="1.0" encoding="utf-8"?>\n<response><a><item>1</item>'
        '<item null="true"/><item>true</item></a><item key="1c">x&lt;y</item>'
        "<b><c>1.50</c></b></response>\n")
    assert "\x01" not in to_xml({"a": "bad\x01char"})


# --- a JSON body is read as carefully as arg1 in the URL ------------------------------

def _post_json(client, body: str, remote: str = "127.0.0.1"):
    return client.post("/system_api/", body, content_type="application/json",
                       REMOTE_ADDR=remote)


@pytest.mark.parametrize("body", [
    '{"arg1": ' + "[" * 50000 + "]" * 50000 + "}",  # too deep for json.loads itself
    "[" * 50000,
])
def test_json_body_too_deep_for_the_parser_is_a_bad_request(client, blocked, body):
    response = _post_json(client, body)
    assert response.status_code == 400
    assert response.content == b"Bad request: the body is not JSON"


def test_json_body_arg1_nesting_is_limited(client, blocked):
    arg1 = '{"nas_ip": "10.0.0.1", "x": ' + "[" * 30 + "]" * 30 + "}"
    body = ('{"method1": "' + NEGBAL + '", "context": "collector", '
            '"psw": "collectortestpsw", "format": "json", "arg1": ' + arg1 + "}")
    assert _post_json(client, body).json() == {"error": "arg1 is nested too deeply"}


def test_json_body_arg1_is_cleaned_like_a_query_arg1(client, db):
    from asr_billing.subscribers.models import Group, Subscriber

    Group.objects.create(name="Top")
    body = json.dumps({"method1": "api_1c_manager.api_1c_create_abonent", "context": "api_1c",
                       "psw": "1ctestpsw", "format": "json",
                       "arg1": {"code1c": "K\u00001", "name": "N\u0000"}})
    answer = _post_json(client, body).json()
    assert answer["fields"]["code1c"] == "K\ufffd1"
    assert Subscriber.objects.get(pk=answer["pk"]).name == "N\ufffd"


def test_json_body_numbers_are_decimals_never_floats():
    from asr_billing.system_api.views import _json_body

    params: dict = {}
    arg1 = _json_body(b'{"arg1": {"sum_in": 0.1, "n": 3}}', params)
    assert arg1 == {"sum_in": Decimal("0.1"), "n": 3}
    assert isinstance(arg1["sum_in"], Decimal)



@pytest.mark.parametrize("name, status, content_type, start", [
    ("arg1", 200, "application/json; charset=utf-8",
     b'{"error": "arg1 must be a JSON object such as'),
    ("format", 200, "application/xml; charset=utf-8", b'<?xml version="1.0"'),
    ("context", 403, "application/json; charset=utf-8",
     b'{"error": "Context=1.5 is not defined"}'),
])
def test_json_body_parameter_given_as_a_fraction(client, blocked, name, status, content_type,
                                                 start):
    body = {"method1": NEGBAL, "context": "collector", "psw": "collectortestpsw",
            "format": "json", "arg1": {"nas_ip": "10.0.0.1"}}
    text = json.dumps(body).replace(f'"{name}": ', f'"{name}": 1.5, "_{name}": ', 1)
    response = _post_json(client, text)
    assert (response.status_code, response["Content-Type"]) == (status, content_type)
    assert response.content.startswith(start)


@pytest.mark.parametrize("name", ["arg1", "context", "fields1"])
def test_json_body_parameter_nested_deeply_is_a_bad_request(client, blocked, name):
    deep = "[" * 900 + "]" * 900  # within json.loads' reach, too deep to pass on
    body = ('{"method1": "' + NEGBAL + '", "context": "collector", '
            '"psw": "collectortestpsw", "' + name + '": ' + deep + "}")
    if name == "context":
        body = body.replace('"context": "collector", ', "")
    response = _post_json(client, body)
    assert (response.status_code, response.content) == (
        400, f"Bad request: {name} is nested too deeply".encode())
