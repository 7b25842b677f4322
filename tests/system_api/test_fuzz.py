"""Random parameters and arg1 bodies against the dispatcher: never a 500, never a change
when the call is refused or answered with an error."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr_billing.finance.models import PaymentOperator
from asr_billing.finance.services import payment_register
from asr_billing.network.services import login_create, nas_create
from asr_billing.subscribers.models import Group
from asr_billing.subscribers.services import subscriber_create
from asr_billing.system_api.registry import registered

from .conftest import PASSWORDS, db_state

METHODS = sorted(registered())
CONTEXTS = ["collector", "asr_fiscal", "api_1c", "web", "base", "nope", ""]
KEYS = ["nas_ip", "contract_number", "sum_in", "pay_operator", "pay_id_str", "act", "parent_id",
        "sync1c", "abonent_id", "op_type", "sdate", "edate", "op_id", "pk", "code1c", "name",
        "abon_code1c", "op_date", "op_summa", "descr", "op_type_id", "suid", "passwd"]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), text,
    st.sampled_from(["10.0.0.1", "BILL0000001", "SBERBANK_OSMP", "PAY", "CHECK",
                     "CHECK_ABONENT", "100", "0.01", "1e400", "NaN", "01.03.2023 0:00:00",
                     "2023-03-01T00:00:00", "01.01.0001 0:00:00", "9999-12-31", "1\u00a0361",
                     "\x00", "\\ud800", "K-1", "-1", "99999999999999999999999", "9" * 29]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(text, inner, max_size=3), max_leaves=6)
arg1_objects = st.dictionaries(st.sampled_from(KEYS) | text, values, max_size=6)
arg1_texts = st.one_of(
    arg1_objects.map(lambda d: json.dumps(d, ensure_ascii=False)),
    text,
    st.sampled_from(["{}", "", "null", "[]", "{", '{"a":', '{"nas_ip":"10.0.0.1"',
                     '{"a":"\\ud800"}', '{"a":1e999}', "[" * 50, '{"op_id":1e99999}',
                     '{"abonent_id":1e99999,"parent_id":-1e99999,"op_type":1e-99999}']),
)


@pytest.fixture
def world(db):
    group = Group.objects.create(name="Fuzz")
    subscriber = subscriber_create(name="Fuzz", group=group, actor="t", code1c="K-1")
    PaymentOperator.objects.create(code="SBERBANK_OSMP", name="Sber")
    nas = nas_create(name="n", ip="10.0.0.1", actor="t")
    login_create(subscriber=subscriber, login="fuzz", password="p", ip="10.20.30.41", nas=nas,
                 actor="t")
    payment_register(subscriber=subscriber, amount=Decimal("10.00"), actor="t")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    method=st.sampled_from(METHODS) | text,
    context=st.sampled_from(CONTEXTS) | text,
    psw_choice=st.sampled_from(["right", "wrong", "missing"]),
    arg1=arg1_texts,
    fmt=st.sampled_from(["json", "", "xml", "text", "JSON", "yaml"]),
    encode=st.booleans(),
    post=st.sampled_from(["get", "form", "json"]),
    remote=st.sampled_from(["127.0.0.1", "::1", "192.0.2.1"]),
    model=st.sampled_from(["Abonents", "users", "Collector", ""]) | text,
    suid=st.none() | text,
)
def test_random_requests(client, world, method, context, psw_choice, arg1, fmt, encode, post,
                         remote, model, suid):
    psw = {"right": PASSWORDS.get(context, ""), "wrong": "wrong", "missing": None}[psw_choice]
    params = {"model": model, "method1": method, "arg1": arg1, "context": context,
              "format": fmt}
    if psw is not None:
        params["psw"] = psw
    if suid is not None:
        params["suid"] = suid
    before = db_state()
    if post == "form":
        response = client.post("/system_api/", params, REMOTE_ADDR=remote)
    elif post == "json":
        # Some HTTP libraries post the parameters as a JSON object; arg1 then often is an
        # object itself.
        with contextlib.suppress(ValueError):
            params["arg1"] = json.loads(arg1) if encode else arg1
        response = client.post("/system_api/", json.dumps(params), REMOTE_ADDR=remote,
                               content_type="application/json")
    else:
        parts = []
        for key, value in params.items():
            raw = key == "arg1" and not encode and "&" not in value and "#" not in value
            parts.append(f"{key}={value if raw else quote(value, safe='')}")
        response = client.get("/system_api/?" + "&".join(parts), REMOTE_ADDR=remote)
    assert response.status_code != 500, response.content[:300]
    assert response.status_code in (200, 400, 403, 404)
    body = response.content.decode("utf-8")
    assert "Traceback" not in body
    refused = response.status_code != 200 or _is_error(body, fmt)
    if refused:
        assert db_state() == before


def _is_error(body: str, fmt: str) -> bool:
    if fmt.lower() == "json":
        try:
            data = json.loads(body)
        except ValueError:
            return False
        return isinstance(data, dict) and ("error" in data or "error_text" in data)
    return "<error>" in body or "<error_text>" in body
