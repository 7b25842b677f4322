"""Random method chains, lookups, values and fields against /rest_api/v2/: never a 500, and a
refused or failing call changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr_billing.finance.services import payment_register
from asr_billing.rest_v2.registry import _SPECS, ALL_LOOKUPS, KNOWN_DJANGO_LOOKUPS
from tests.rest_v2.conftest import db_state

pytestmark = pytest.mark.django_db

MODELS = [*sorted(_SPECS), "abonents", "Secrets"]
METHODS = sorted({"objects.filter", "objects.get", "objects.exclude", "objects.all",
                  "objects.count", "objects.create", "filter", "exclude", "get", "all",
                  "order_by", "count", "first", "set", "save", "delete", "update", "__class__",
                  "_meta", "raw", "web_cabinet.login", "web_cabinet.user_info", "get_version"}
                 | {m.name for s in _SPECS.values() for m in (*s.methods, *s.model_methods)
                    if not m.name.endswith("*")})
NAMES = sorted({f.name for s in _SPECS.values() for f in s.fields}
               | {r.name for s in _SPECS.values() for r in s.relations}
               | {"pk", "password_enc", "radius_secret_enc", "subscriber", "logins", ""})
LOOKUPS = sorted(ALL_LOOKUPS | KNOWN_DJANGO_LOOKUPS)

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
keys = st.builds(
    lambda parts, lookup: "__".join(parts + ([lookup] if lookup else [])),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
    st.none() | st.sampled_from(LOOKUPS),
) | text
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), text,
    st.decimals(allow_nan=False, places=3, min_value=-(10**15), max_value=10**15),
    st.sampled_from(["1", "0", "600.50", "600,50", "1e400", "NaN", "2023-03-01",
                     "2023-03-01 10:00:00", "0001-01-01", "9999-12-31", "10.20.30.41",
                     "::ffff:10.20.30.41", "testlogin", "\x00", "-1", "99999999999999999999"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(text, inner, max_size=2), max_leaves=5)
args = st.one_of(st.none(), st.dictionaries(keys, values, max_size=4),
                 st.lists(st.sampled_from(NAMES) | text, max_size=3), values)


@pytest.fixture
def world(subscriber, make_login, attributes):
    make_login(subscriber, "testlogin", password="testpsw", ip="10.20.30.41")
    payment_register(subscriber=subscriber, amount=Decimal("500.00"), actor="test")
    return subscriber


def _arg(value) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODELS),
    steps=st.lists(st.tuples(st.sampled_from(METHODS) | text, args), min_size=0, max_size=4),
    fields=st.none() | st.lists(st.builds("__".join, st.lists(st.sampled_from(NAMES),
                                                               min_size=1, max_size=3)),
                                max_size=4) | text,
    limit=st.none() | st.sampled_from(["0", "1", "-1", "x", "99999999999"]),
    get=st.booleans(),
)
def test_random_chains(client, world, model, steps, fields, limit, get):
    data = {}
    for number, (method, arg) in enumerate(steps, start=1):
        data[f"method{number}"] = method
        if arg is not None:
            data[f"arg{number}"] = _arg(arg)
    if fields is not None:
        data["fields"] = fields if isinstance(fields, str) else _arg(fields)
    if limit is not None:
        data["limit"] = limit
    before = db_state()
    send = client.get if get else client.post
    response = send(f"/rest_api/v2/{model}/", data)
    assert response.status_code in (200, 400, 405), response.content[:300]
    body = response.json()
    if "error" in body or (isinstance(body.get("result"), list) and body["result"]
                           and isinstance(body["result"][0], str)
                           and "error" in json.loads(body["result"][0])):
        assert db_state() == before, body


def _valid_keys(spec) -> list[str]:
    found = []
    for field in spec.fields:
        found += [field.name] + [f"{field.name}__{lookup}" for lookup in field.allowed_lookups]
    for relation in spec.relations:
        target = _SPECS[relation.target]
        found += [f"{relation.name}__{f.name}" for f in target.fields if f.path is not None]
    return found


@st.composite
def object_chains(draw):
    """A chain that reaches an object of a real model, then writes to it or calls its
    methods with random values."""
    spec = draw(st.sampled_from([s for s in _SPECS.values() if s.model and not s.hidden]))
    first = draw(st.sampled_from([("objects.get", {"id": "SUB"}),
                                  ("objects.filter", None), ("objects.all", None)]))
    if first[0] == "objects.filter":
        first = (first[0], draw(st.dictionaries(st.sampled_from(_valid_keys(spec)), values,
                                                max_size=3)))
    steps = [first] if first[0] == "objects.get" else [first, ("first", None)]
    writable = spec.writable_fields() or ["name"]
    methods = [m.name for m in spec.methods] or ["set"]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["set", "save", "method"]))
        if kind == "set":
            steps.append(("set", draw(st.dictionaries(st.sampled_from(writable), values,
                                                      min_size=1, max_size=3))))
        elif kind == "save":
            steps.append(("save", {}))
        else:
            steps.append((draw(st.sampled_from(methods)), draw(args)))
    return spec.name, steps


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chain=object_chains())
def test_random_writes(client, world, chain):
    model, steps = chain
    pk = {"AdminAccounts": world.pk, "Abonents": world.pk, "Users": world.logins.get().pk}
    data = {}
    for number, (method, arg) in enumerate(steps, start=1):
        data[f"method{number}"] = method
        if arg is not None:
            arg = {k: (pk.get(model, 1) if v == "SUB" else v) for k, v in arg.items()} if (
                isinstance(arg, dict)) else arg
            data[f"arg{number}"] = _arg(arg)
    before = db_state()
    response = client.post(f"/rest_api/v2/{model}/", data)
    assert response.status_code == 200, response.content[:300]
    if "error" in response.json():
        assert db_state() == before, response.json()
