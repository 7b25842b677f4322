"""Nothing outside the whitelist is reachable: each refusal is a clear error, HTTP 200 with
``error`` in the body (where Carbon's clients look), and leaves the database unchanged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.finance.services import payment_register
from asr_billing.tariffs.models import Tariff
from tests.rest_v2.conftest import ACTOR, db_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(subscriber, make_login, attributes):
    make_login(subscriber, "testlogin", password="testpsw", ip="10.20.30.41")
    payment_register(subscriber=subscriber, amount=Decimal("500.00"), actor=ACTOR)
    return subscriber


def _subst(value, pk):
    """Test parameters name the world's subscriber "SUB" (ids differ between databases)."""
    if value == "SUB":
        return pk
    if isinstance(value, dict):
        return {k: _subst(v, pk) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_subst(v, pk) for v in value)
    return value


def refused(rest, model, *steps, fields=None, get=False):
    from asr_billing.subscribers.models import Subscriber

    first = Subscriber.objects.order_by("pk").first()
    steps = _subst(steps, first.pk if first else None)
    before = db_state()
    status, body = rest(model, *steps, fields=fields, get=get)
    assert "result" not in body, body
    assert status == 200
    assert db_state() == before
    return body["error"]


GET_SUB = ("objects.get", {"id": "SUB"})


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        ([GET_SUB, ("delete", {})],
         'method2 delete: Method "delete" is not allowed on an object of Abonents '
         "(allowed here: set, save, add_payment, get_balance_until_date)"),
        ([("objects.delete", {})],
         'Method "objects.delete" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
        ([("objects.filter", {}), ("delete", {})],
         'method2 delete: Method "delete" is not allowed on a list of Abonents (allowed here: '
         "filter, exclude, get, all, order_by, count, first)"),
        ([("objects.filter", {}), ("update", {"name": "x"})],
         'method2 update: Method "update" is not allowed on a list of Abonents (allowed here: '
         "filter, exclude, get, all, order_by, count, first)"),
        ([("objects.update", {"name": "x"})],
         'Method "objects.update" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
        ([("objects.raw", "\"SELECT 1\"")],
         'Method "objects.raw" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
        ([("objects.all", {}), ("extra", {"where": ["1=1"]})],
         'method2 extra: Method "extra" is not allowed on a list of Abonents (allowed here: '
         "filter, exclude, get, all, order_by, count, first)"),
        ([GET_SUB, ("__class__", {})],
         'method2 __class__: Method "__class__" is not allowed on an object of Abonents '
         "(allowed here: set, save, add_payment, get_balance_until_date)"),
        ([GET_SUB, ("_meta", {})],
         'method2 _meta: Method "_meta" is not allowed on an object of Abonents '
         "(allowed here: set, save, add_payment, get_balance_until_date)"),
        ([("objects._meta", {})],
         'Method "objects._meta" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
        ([("objects.create", {"name": "x"})],
         'Method "objects.create" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
        ([GET_SUB, ("get_balance_until_date", {}), ("delete", {})],
         'method3 delete: Method "delete" cannot be called on a plain value'),
    ],
)
def test_methods_outside_the_whitelist(rest, world, steps, error):
    text = refused(rest, "Abonents", *steps)
    assert text == error


def test_user_methods_that_do_not_exist(rest, world):
    text = refused(rest, "Users", ("objects.get", {"login": "testlogin"}),
                           ("password_enc", {}))
    assert text == (
        'method2 password_enc: Method "password_enc" is not allowed on an object of Users '
        "(allowed here: set, save, check_pass, set_password, get_or_create_dynamic_session)"
    )


@pytest.mark.parametrize(
    ("model", "lookups", "error"),
    [
        ("Users", {"password_enc": "x"}, 'Unknown field "password_enc" for Users'),
        ("Users", {"password": "x"}, 'Unknown field "password" for Users'),
        ("Users", {"password_enc__isnull": False},
         'Unknown field "password_enc__isnull" for Users'),
        ("Users", {"abonent__users__password_enc__icontains": "a"},
         'Unknown field "abonent__users__password_enc__icontains" for Users'),
        ("Nas", {"radius_secret_enc__isnull": False},
         'Unknown field "radius_secret_enc__isnull" for Nas'),
        ("Abonents", {"__class__": 1}, 'Unknown field "__class__" for Abonents'),
        ("Abonents", {"_meta": 1}, 'Unknown field "_meta" for Abonents'),
        ("Abonents", {"subscriber__name": "x"}, 'Unknown field "subscriber__name" for Abonents'),
        ("Abonents", {"tariff__fee": "1"}, 'Unknown field "tariff__fee" for Abonents'),
        ("Abonents", {"name__regex": ".*"},
         'Lookup "regex" is not allowed on Abonents.name '
         "(allowed: exact, gt, gte, icontains, in, isnull, lt, lte, range)"),
        ("Abonents", {"name__startswith": "И"},
         'Lookup "startswith" is not allowed on Abonents.name '
         "(allowed: exact, gt, gte, icontains, in, isnull, lt, lte, range)"),
        ("Abonents", {"name__bogus": "x"}, 'Unknown field "name__bogus" for Abonents'),
        ("Abonents", {"tarif__name__icontains__x": "x"},
         'Unknown field "tarif__name__icontains__x" for Abonents'),
        ("Abonents", {"allow_internet": 1},
         'Field "allow_internet" of Abonents cannot be used in a filter'),
        ("Abonents", {"id__icontains": "1"},
         'Lookup "icontains" is not allowed on Abonents.id '
         "(allowed: exact, gt, gte, in, isnull, lt, lte, range)"),
        ("Users", {"abonent__minimal_pay_sum": "0"},
         'Field "minimal_pay_sum" of Abonents cannot be used in a filter'),
        ("FinanceOperations", {"abonent__users__storno": 0},
         'Unknown field "abonent__users__storno" for FinanceOperations'),
        ("Abonents", {"id": "abc"}, 'id expects an integer, got "abc"'),
        ("Abonents", {"id__in": "1,2"}, "id__in expects a JSON list"),
        ("FinanceOperations", {"op_date__range": ["2023-03-01"]},
         "op_date__range expects a list of two values"),
        ("FinanceOperations", {"op_date__gte": "01.03.2023"},
         'op_date__gte expects a date such as 2023-03-01 10:00:00 or 2023-03-01, '
         'got "01.03.2023"'),
    ],
)
def test_lookups_outside_the_whitelist(rest, world, model, lookups, error):
    for method in ("objects.filter", "objects.get", "objects.exclude"):
        text = refused(rest, model, (method, lookups))
        assert text == error


@pytest.mark.parametrize(
    ("model", "fields", "error"),
    [
        ("Users", ["password_enc"], 'Unknown field "password_enc" for Users'),
        ("Users", ["password"], 'Unknown field "password" for Users'),
        ("Users", ["abonent__users__password_enc"],
         'Unknown field "abonent__users__password_enc" for Users'),
        ("Nas", ["radius_secret_enc"], 'Unknown field "radius_secret_enc" for Nas'),
        ("Nas", ["radius_secret"], 'Unknown field "radius_secret" for Nas'),
        ("Abonents", ["_meta"], 'Unknown field "_meta" for Abonents'),
        ("Abonents", ["__class__"], 'Unknown field "__class__" for Abonents'),
        ("Abonents", ["name__upper"], 'Unknown field "name__upper" for Abonents'),
        ("Abonents", "name", 'fields must be a JSON list of field names such as ["name"]'),
        ("Abonents", [["name"]], 'fields must be a JSON list of field names such as ["name"]'),
        ("Abonents", ["users__abonent__users__abonent__users__abonent__name"],
         '"users__abonent__users__abonent__users__abonent__name" goes deeper than 5 relations'),
    ],
)
def test_fields_outside_the_whitelist(rest, world, model, fields, error):
    get = {"Users": {"login": "testlogin"}, "Nas": {"ip": "10.0.0.1"}}.get(model, {"id": "SUB"})
    text = refused(rest, model, ("objects.get", get), fields=fields)
    assert text == error


@pytest.mark.parametrize(
    ("model", "get", "values", "error"),
    [
        ("AdminAccounts", {"id": "SUB"}, {"balance": "1000000"},
         "method2 set: AdminAccounts.balance is read-only (writable: credit)"),
        ("Abonents", {"id": "SUB"}, {"name": "Хакер"},
         "method2 set: Abonents.name is read-only (writable: tarif_next_id, tarif_next_date, "
         "own_disabled_start, own_disabled_end, a_home_number, sms, phone, email)"),
        ("Abonents", {"id": "SUB"}, {"tarif_id": 2},
         "method2 set: Abonents.tarif_id is read-only (writable: tarif_next_id, tarif_next_date, "
         "own_disabled_start, own_disabled_end, a_home_number, sms, phone, email)"),
        ("Users", {"login": "testlogin"}, {"password_enc": "x"},
         'method2 set: Unknown field "password_enc" for Users'),
        ("Users", {"login": "testlogin"}, {"login": "root"},
         "method2 set: Users.login is read-only (writable: ip, mac, enabled, sms, "
         "a_home_number)"),
        ("Users", {"login": "testlogin"}, {"__class__": "x"},
         'method2 set: Unknown field "__class__" for Users'),
        ("Tarif", {"name": "Home 100"}, {"summa": "0"},
         "method2 set: Tarif.summa is read-only (writable: -)"),
    ],
)
def test_writes_outside_the_whitelist(rest, world, model, get, values, error):
    text = refused(rest, model, ("objects.get", get), ("set", values), ("save", {}))
    assert text == error


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"tarif_next_id": 999, "tarif_next_date": "2999-01-01"},
         "method3 save: Tariff 999 does not exist"),
        ({"tarif_next_id": "CURRENT", "tarif_next_date": "2999-01-01"},
         "method3 save: The subscriber is already on tariff Home 100"),
        ({"tarif_next_id": "ARCHIVED", "tarif_next_date": "2999-01-01"},
         "method3 save: Tariff Archived is not available"),
        ({"tarif_next_id": "OTHER"},
         "method3 save: The date of the tariff change is required"),
        ({"tarif_next_id": "OTHER", "tarif_next_date": "2000-01-01"},
         "method3 save: The tariff change date 2000-01-01 is in the past (today is TODAY)"),
        ({"tarif_next_id": "OTHER", "tarif_next_date": "26.05.2016"},
         'method2 set: tarif_next_date expects a date such as 2016-05-26, got "26.05.2016"'),
        ({"sms": "call me"}, "method3 save: Phone for SMS: call me is not a phone number"),
        ({"email": "not-an-email"}, "method3 save: not-an-email is not an e-mail address"),
        ({"own_disabled_start": "2999-01-01"},
         "method3 save: Set own_disabled_start and own_disabled_end together"),
        ({"own_disabled_start": "2999-01-01", "own_disabled_end": None},
         "method3 save: own_disabled_start and own_disabled_end are both dates, or both null "
         "to lift the block"),
    ],
)
def test_bad_abonent_writes_change_nothing(rest, world, values, error):
    archived = Tariff.objects.create(name="Archived", fee=Decimal("1.00"), is_active=False)
    other = Tariff.objects.create(name="Other", fee=Decimal("2.00"))
    names = {"ARCHIVED": archived.pk, "OTHER": other.pk, "CURRENT": world.tariff_id}
    values = {k: names.get(v, v) for k, v in values.items()}
    error = error.replace("TODAY", timezone.localdate().isoformat())
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                           ("set", values), ("save", {}))
    assert text == error


def test_bad_user_writes_change_nothing(rest, world, make_subscriber, make_login):
    other = make_subscriber(name="Другой")
    make_login(other, "other", ip="10.20.30.42")
    text = refused(rest, "Users", ("objects.get", {"login": "other"}),
                           ("set", {"ip": "10.20.30.41"}), ("save", {}))
    assert text == "method3 save: IP address 10.20.30.41 belongs to another enabled login"
    text = refused(rest, "Users", ("objects.get", {"login": "other"}),
                           ("set", {"mac": "zz"}), ("save", {}))
    assert text == "method3 save: Invalid MAC address: zz"
    text = refused(rest, "Users", ("objects.get", {"login": "other"}),
                           ("set", {"enabled": "maybe"}), ("save", {}))
    assert text == 'method2 set: enabled expects 0 or 1, got "maybe"'
    text = refused(rest, "Users", ("objects.get", {"login": "other"}),
                           ("set_password", {"psw": "has space"}))
    assert text == (
        "method2 set_password: The password must have no spaces and at most 64 characters"
    )
    text = refused(rest, "Users", ("objects.get", {"login": "other"}),
                           ("set_password", {}))
    assert text == 'method2 set_password: set_password needs "psw"'


@pytest.mark.parametrize(
    ("arg", "error"),
    [
        ({}, 'method2 add_payment: add_payment needs "SUM_IN"'),
        ({"SUM_IN": "-5"},
         "method2 add_payment: SUM_IN must be a positive amount with at most 2 decimals, not -5"),
        ({"SUM_IN": "0"},
         "method2 add_payment: SUM_IN must be a positive amount with at most 2 decimals, not 0"),
        ({"SUM_IN": "1.005"}, "method2 add_payment: SUM_IN must be a positive amount with at "
         "most 2 decimals, not 1.005"),
        ({"SUM_IN": "abc"},
         "method2 add_payment: SUM_IN must be a positive amount with at most 2 decimals, not abc"),
        ({"SUM_IN": "10", "pay_operator": "NOPE"},
         "method2 add_payment: Unknown payment operator: NOPE"),
        ({"SUM_IN": "10", "pay_id_str": "7"},
         "method2 add_payment: A payment id needs a payment operator"),
    ],
)
def test_bad_payments_change_nothing(rest, world, arg, error):
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                           ("add_payment", arg))
    assert text == error


def test_a_failing_step_undoes_the_steps_before_it(rest, world):
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                           ("add_payment", {"SUM_IN": "100"}), ("delete", {}))
    assert text == (
        'method3 delete: Method "delete" is not allowed on an object of AdminAccounts '
        "(allowed here: set, save)"
    )


def test_bad_fields_undo_a_write(rest, world):
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                           ("add_payment", {"SUM_IN": "100"}), fields=["password"])
    assert text == 'Unknown field "password" for AdminAccounts'


def test_bad_creates_change_nothing(rest, world):
    text = refused(rest, "AttributeValues", ("objects.create", {
        "abonent_id": world.pk, "attribute_id": 1012, "attribute_value": "x", "id": 5}))
    assert text == ('objects.create cannot set "id" of AttributeValues '
                    "(allowed: abonent_id, attribute_id, attribute_value)")
    text = refused(rest, "AttributeValues", ("objects.create", {
        "abonent_id": world.pk, "attribute_id": 999, "attribute_value": "x"}))
    assert text == "Attribute 999 does not exist"
    text = refused(rest, "AttributeValues", ("objects.create", {
        "abonent_id": 99999, "attribute_id": 1012, "attribute_value": "x"}))
    assert text == "Subscriber 99999 does not exist"
    text = refused(rest, "AttributeValues",
                   ("objects.create", {"abonent_id": world.pk}))
    assert text == "objects.create needs attribute_id, attribute_value"
    rest("AttributeValues", ("objects.create", {
        "abonent_id": world.pk, "attribute_id": 1012, "attribute_value": "x"}))
    text = refused(rest, "AttributeValues", ("objects.create", {
        "abonent_id": world.pk, "attribute_id": 1012, "attribute_value": "y"}))
    assert text == (f"Subscriber {world.contract_number} already has attribute 1012; "
                    "change its value instead")


def test_not_found_and_ambiguous_get(rest, world, make_subscriber):
    make_subscriber(name="Иванов Иван Иванович")
    text = refused(rest, "Abonents", ("objects.get", {"id": 424242}))
    assert text == "Abonents matching query does not exist."
    text = refused(rest, "Abonents", ("objects.get", {"name": "Иванов Иван Иванович"}))
    assert text == "get() returned more than one Abonents; narrow the lookup"


def test_writes_need_post(rest, world):
    before = db_state()
    status, body = rest("Abonents", ("objects.get", {"id": world.pk}),
                        ("add_payment", {"SUM_IN": "100"}), get=True)
    assert status == 405
    assert body["error"] == (
        "method2 add_payment: add_payment changes data: send the request with POST"
    )
    status, body = rest("Abonents", ("objects.get", {"id": world.pk}),
                        ("set", {"sms": "1"}), ("save", {}), get=True)
    assert (status, body["error"]) == (
        405, "method3 save: save changes data: send the request with POST")
    assert db_state() == before


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "method1 is required"),
        ({"method2": "count"}, "method1 is missing"),
        ({"method1": "objects.all", "method3": "count"}, "method2 is missing"),
        ({"method1": "objects.filter", "arg1": "{not json"}, "arg1 is not valid JSON"),
        ({"method1": "objects.filter", "arg1": "[1]"},
         "objects.filter expects a JSON object"),
        ({"method1": "objects.all", "limit": "-1"}, "limit must be a whole number of 0 or more"),
        ({"method1": "objects.all", "fields": "{bad"},
         'fields must be a JSON list of field names such as ["name"]'),
        ({"method1": "objects.all", "method2": "order_by", "arg2": '["?"]'},
         'method2 order_by: Abonents cannot be ordered by "?"'),
        ({"method1": "objects.all", "method2": "order_by", "arg2": '["allow_internet"]'},
         'method2 order_by: Abonents cannot be ordered by "allow_internet"'),
    ],
)
def test_bad_requests(client, world, data, error):
    before = db_state()
    response = client.post("/rest_api/v2/Abonents/", data)
    body = response.json()
    assert (response.status_code, body) == (200, {"call": "/rest_api/v2/Abonents/",
                                                  "error": error})
    assert db_state() == before


def test_empty_list_argument_means_no_arguments(rest, world):
    # PHP's json_encode(array()) is "[]" (Carbon's billing_api_tools send it).
    _status, listed = rest("Abonents", ("objects.filter", []), ("count", None))
    _status, everyone = rest("Abonents", ("objects.filter", {}), ("count", None))
    assert listed == everyone == {"call": "/rest_api/v2/Abonents/", "result": everyone["result"]}
    assert everyone["result"] > 0


def test_unknown_model(rest):
    status, body = rest("Secrets", ("objects.all", {}))
    assert (status, body) == (200, {"call": "/rest_api/v2/Secrets/", "error":
                                    'Unknown model "Secrets"; GET /rest_api/v2/ lists them'})
    status, body = rest("AbonentGroups", ("objects.all", {}))
    assert body["error"] == 'Unknown model "AbonentGroups"; GET /rest_api/v2/ lists them'


def test_other_http_methods(client):
    response = client.put("/rest_api/v2/Abonents/")
    assert response.status_code == 405
    assert response.json() == {"call": "/rest_api/v2/Abonents/",
                               "error": "Use POST (or GET for reads)"}
    response = client.delete("/rest_api/v2/Abonents/")
    assert response.status_code == 405


def test_voluntary_block_in_the_past(rest, world):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                           ("set", {"own_disabled_start": yesterday,
                                    "own_disabled_end": "2999-01-01"}), ("save", {}))
    assert text == "method3 save: Невозможно взять добровольную блокировку в прошлом"


def test_voluntary_block_too_far_ahead(rest, world):
    # The Laravel client (C-LARA) sets own_disabled_start/end and saves; the start is at
    # most billing['vblock.max_start_days'] (60) days ahead, as in the cabinet and admin.
    today = timezone.localdate()
    start, latest = today + dt.timedelta(days=61), today + dt.timedelta(days=60)
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                   ("set", {"own_disabled_start": start.isoformat(),
                            "own_disabled_end": (start + dt.timedelta(days=5)).isoformat()}),
                   ("save", {}))
    assert text == ("method3 save: A voluntary block can start at most 60 days from today, "
                    f"on {latest:%d.%m.%Y} at the latest")


@pytest.mark.parametrize("method", ["objects.filter", "objects.get", "objects.exclude"])
def test_lookups_deeper_than_five_relations(rest, world, method):
    key = "abonent__users__abonent__users__abonent__users__login"
    text = refused(rest, "Users", (method, {key: "testlogin"}))
    assert text == f'"{key}" goes deeper than 5 relations'


def test_order_by_deeper_than_five_relations(rest, world):
    # 36 hops used to reach SQLite's limit of 64 tables in a join: HTTP 500.
    name = "abonent__" + "account__abonent__" * 35 + "name"
    text = refused(rest, "Users", ("objects.all", None), ("order_by", [name]))
    assert text == f'method2 order_by: Users cannot be ordered by "{name[:59]}…"'


def test_a_query_joining_too_many_tables(rest, world):
    # Each filter step over a reverse relation joins its own tables; ten such steps used
    # to reach SQLite's limit of 64 tables in a join (HTTP 500).
    deep = {"abonent__users__abonent__users__abonent__name__icontains": "x",
            "abonent__uslugi__abonent__attributes__abonent__name__icontains": "x"}
    steps = [("objects.filter", deep)] + [("filter", deep)] * 9
    for last in ([], [("count", None)], [("first", None)], [("get", {})]):
        text = refused(rest, "Users", *steps[: 10 - len(last)], *last)
        assert text.endswith("cross fewer relations in the conditions, order_by and fields")
        assert "would join" in text


def test_deep_fields_stay_under_the_table_limit(rest, world):
    # Legitimate deep fields (single relations up to 5 deep) are not refused.
    fields = ["abonent__account__abonent__parent__parent", "abonent__tarif", "abonent__tarif_next",
              "account__abonent__account__abonent__tarif", "tarif", "usluga"]
    status, body = rest("FinanceOperations", ("objects.all", None), fields=fields)
    assert status == 200
    assert body["result"][0]["fields"]["abonent"]["fields"]["tarif"]["fields"]["name"] == (
        world.tariff.name)


def test_order_by_takes_at_most_ten_names(rest, world):
    # 200,000 names (1.2 MB) kept a worker busy for 14 s.
    text = refused(rest, "Users", ("objects.all", None), ("order_by", ["id"] * 11))
    assert text == "method2 order_by: order_by takes at most 10 names"
    status, body = rest("Users", ("objects.all", None), ("order_by", ["-id"] * 10))
    assert status == 200 and len(body["result"]) == 1


def test_lifting_a_voluntary_block_that_is_not_there(rest, world):
    text = refused(rest, "Abonents", ("objects.get", {"id": world.pk}),
                   ("set", {"own_disabled_start": None, "own_disabled_end": None}), ("save", {}))
    assert text == "method3 save: The subscriber has no voluntary block to lift"


@pytest.mark.parametrize("lookup", ["nas_type__icontains", "name__icontains", "id__gte"])
def test_null_with_a_comparing_lookup_is_refused(rest, world, lookup):
    """Found by the fuzz test: icontains with null reached Django, which raises (a 500)."""
    before = db_state()
    status, body = rest("Nas", ("objects.filter", {lookup: None}))
    assert status == 200
    assert body["error"] == f"{lookup}: null is not a value to compare with"
    assert db_state() == before
