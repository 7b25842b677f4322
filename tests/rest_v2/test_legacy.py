"""The deprecated old REST API: GET /admin/?username=…&password=…&api=Y (the body is a
key), then /rest_api/?…&hash_key=<key>, as Carbon's PHP helpers (billing_api_tools,
api_main.php: API::login, API::__call_api without $system_api, API::get_field) send and
read them. Off by default: then both URLs answer exactly as without this code."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from asr_billing.cabinet.models import AuthThrottle
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Operation
from asr_billing.rest_v2.models import LegacyApiKey
from asr_billing.subscribers.models import Group
from tests.rest_v2.conftest import db_state

pytestmark = pytest.mark.django_db

PASSWORD = "Clerk-pw-1"


@pytest.fixture
def legacy_on(config_edit):
    config_edit("network", "api.legacy_rest", "yes")
    config_edit("network", "api.allowed_ips", "127.0.0.0/8 ::1")  # guessers at 127.0.0.2, 3


def grant(user, *codenames: str) -> None:
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(codename=name, content_type__app_label=app_label))


@pytest.fixture
def clerk(django_user_model):
    """A staff operator who may view subscribers and groups, nothing else."""
    user = django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    grant(user, "subscribers.view_subscriber", "subscribers.view_group")
    return user


def php_login(client, username="clerk", password=PASSWORD, remote="127.0.0.1"):
    """API::login(): http_build_query(array_map('urlencode', [username, password, api=Y,
    format=json])) appended to http://<addr>/admin/?, sent by Httpful; the body is the key."""
    params = {"username": username, "password": password, "api": "Y", "format": "json"}
    return client.get("/admin/?" + urlencode(params), REMOTE_ADDR=remote)


def php_call_api(client, key: str, params: dict, remote="127.0.0.1"):
    """API::__call_api() with $system_api false: $params + format=json + hash_key,
    http_build_query, GET http://<addr>/rest_api/?…; json_decode($content, true)."""
    params = {**params, "format": "json", "hash_key": key}
    return client.get("/rest_api/?" + urlencode(params), REMOTE_ADDR=remote)


def get_field(res: dict, field: str):
    """API::get_field() of api_main.php, line for line."""
    if field == "pk":
        return res["result"]["result"][0][field]
    return res["result"]["result"][0]["fields"][field]


def key_of(client, **kwargs) -> str:
    response = php_login(client, **kwargs)
    assert response.status_code == 200, response.content
    return response.content.decode()


# --- off (the default): exactly as without the old API


def test_off_by_default_the_admin_answers_the_login_url(client, clerk, settings):
    url = "/admin/?" + urlencode({"username": "clerk", "password": PASSWORD, "api": "Y",
                                  "format": "json"})
    ours = client.get(url)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "LegacyLogin" not in m]
    plain = client.get(url)
    assert (ours.status_code, ours["Location"]) == (plain.status_code, plain["Location"])
    assert ours.status_code == 302
    assert ours["Location"].startswith("/admin/login/?next=/admin/")
    assert ours.content == plain.content
    assert LegacyApiKey.objects.count() == 0
    assert AuthThrottle.objects.count() == 0


def test_off_by_default_rest_api_is_an_unknown_url(client, clerk, legacy_on, config_edit):
    key = key_of(client)
    config_edit("network", "api.legacy_rest", "no")  # turned off later: every key stops
    for url in ("/rest_api/", "/rest_api", f"/rest_api/?model=Abonents&method1=objects.all"
                f"&format=json&hash_key={key}"):
        response = client.get(url)
        unknown = client.get("/no_such_api/")
        assert (response.status_code, response.content) == (404, unknown.content)
    assert client.post("/rest_api/", {"hash_key": key}).status_code == 404


def test_on_the_admin_itself_is_unchanged(admin_client, legacy_on):
    assert admin_client.get("/admin/").status_code == 200
    response = admin_client.get("/admin/?username=x")  # no api=Y: the admin's own page
    assert response.status_code == 200
    assert LegacyApiKey.objects.count() == 0


# --- login


def test_login_answers_a_key_stored_hashed_and_audited(client, clerk, legacy_on):
    response = php_login(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    key = response.content.decode()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    row = LegacyApiKey.objects.get()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(list(LegacyApiKey.objects.values()), default=str)
    assert (row.user, row.source_ip) == (clerk, "127.0.0.1")
    assert row.expires_at - row.created_at == dt.timedelta(minutes=60)
    entry = AuditEntry.objects.get(action="legacy_api_key_issue")
    assert (entry.actor, entry.actor_user, entry.object_id) == ("admin:clerk", clerk,
                                                                 str(row.pk))
    assert entry.new == {"source_ip": "127.0.0.1", "expires_at": row.expires_at.isoformat()}
    assert key_of(client) != key  # each login its own key


def test_login_by_post_form(client, clerk, legacy_on):
    response = client.post("/admin/?api=Y", {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{40}", response.content.decode())


@pytest.mark.parametrize(
    ("username", "password", "status", "text"),
    [
        ("clerk", "wrong", 403, "Wrong username or password"),
        ("nobody", PASSWORD, 403, "Wrong username or password"),
        ("clerk", "", 400, "username and password are required: "
                           "/admin/?username=…&password=…&api=Y"),
    ],
)
def test_login_refusals(client, clerk, legacy_on, username, password, status, text):
    before = db_state()
    response = php_login(client, username=username, password=password)
    assert (response.status_code, response.content.decode()) == (status, text)
    assert LegacyApiKey.objects.count() == 0
    assert db_state() == before


def test_only_active_staff_operators(client, django_user_model, legacy_on):
    django_user_model.objects.create_user("member", password=PASSWORD)  # not staff
    django_user_model.objects.create_user("gone", password=PASSWORD, is_staff=True,
                                          is_active=False)
    for name in ("member", "gone"):
        response = php_login(client, username=name)
        assert (response.status_code, response.content.decode()) == (
            403, "Wrong username or password")
    assert LegacyApiKey.objects.count() == 0


def test_login_and_calls_only_from_allowed_ips(client, clerk, legacy_on):
    response = php_login(client, remote="192.0.2.5")
    assert (response.status_code, response.content.decode()) == (
        403, "Access denied: 192.0.2.5 is not in network['api.allowed_ips']")
    key = key_of(client)
    response = php_call_api(client, key, {"model": "Abonents", "method1": "objects.all"},
                            remote="192.0.2.5")
    text = "Access denied: 192.0.2.5 is not in network['api.allowed_ips']"
    assert (response.status_code, response.json()) == (403, {"error_text": text,
                                                             "error": text})


def test_failed_logins_slow_the_guesser_not_the_operator(client, clerk, legacy_on):
    for _ in range(5):
        assert php_login(client, password="guess", remote="127.0.0.2").status_code == 403
    response = php_login(client, remote="127.0.0.2")  # even the right password, now
    assert response.status_code == 429
    assert response.content.decode().startswith("Too many failed logins; try again after ")
    assert LegacyApiKey.objects.count() == 0
    # The operator, from his own address, is not locked out by the guesser.
    assert php_login(client, remote="127.0.0.1").status_code == 200
    # Fifteen minutes later the guesser's address may try again.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert php_login(client, remote="127.0.0.2").status_code == 200


def test_one_address_guessing_many_names_is_stopped(client, clerk, legacy_on):
    for n in range(30):  # cabinet['login.ip_max_failures'], as for the admin login
        assert php_login(client, username=f"user{n}", remote="127.0.0.3").status_code == 403
    assert php_login(client, remote="127.0.0.3").status_code == 429
    assert php_login(client, remote="127.0.0.1").status_code == 200


def test_successful_login_forgets_that_names_failures(client, clerk, legacy_on):
    for _ in range(4):
        php_login(client, password="typo")
    assert php_login(client).status_code == 200
    for _ in range(4):
        php_login(client, password="typo")
    assert php_login(client).status_code == 200


# --- calls


@pytest.fixture
def world(make_subscriber, group):
    Group.objects.create(name="Дом 5", parent=group)
    return {"sub": make_subscriber(name="Петров Пётр", code1c="00-00003107"), "group": group}


def test_php_helper_reads_groups_with_get_field(client, clerk, legacy_on, world):
    # api_main.php's own example: model=Abonents, method1=objects.filter,
    # arg1={"is_folder": 1}; print_r / get_field of the answer.
    key = key_of(client)
    response = php_call_api(client, key, {"model": "Abonents", "method1": "objects.filter",
                                          "arg1": '{"is_folder": 1}'})
    assert response.status_code == 200
    res = json.loads(response.content)
    assert get_field(res, "pk") == world["group"].pk
    assert get_field(res, "name") == "Test group"
    assert get_field(res, "is_folder") == 1
    assert [row["fields"]["name"] for row in res["result"]["result"]] == ["Test group", "Дом 5"]


def test_answers_are_rest_v2_objects_in_the_old_envelope(client, clerk, legacy_on, world):
    key = key_of(client)
    sub = world["sub"]
    response = php_call_api(client, key, {"model": "Abonents", "method1": "objects.filter",
                                          "arg1": '{"code1c":"00-00003107"}',
                                          "fields1": '["name","contract_number"]'})
    assert response.json() == {"result": {"result": [
        {"pk": sub.pk, "model": "Abonents",
         "fields": {"name": "Петров Пётр", "contract_number": sub.contract_number}}]}}
    response = php_call_api(client, key, {"model": "Abonents", "method1": "objects.all",
                                          "method2": "count"})
    assert response.json() == {"result": {"result": 1}}
    # Without format: XML, as the old API answered.
    response = client.get(f"/rest_api/?model=Abonents&method1=objects.count&hash_key={key}")
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<response><result><result>1</result></result></response>\n")


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"model": "Tarif", "method1": "objects.all"},
         "Permission denied: clerk may not view Tarif"),
        ({"model": "Abonents", "method1": "objects.filter", "arg1": '{"tarif__name": "x"}'},
         "Permission denied: clerk may not view Tarif"),
        ({"model": "Abonents", "method1": "objects.all", "fields1": '["account__balance"]'},
         "Permission denied: clerk may not view AdminAccounts"),
        ({"model": "Abonents", "method1": "objects.all", "method2": "order_by",
          "arg2": '["tarif__name"]'},
         "method2 order_by: Permission denied: clerk may not view Tarif"),
        ({"model": "Abonents", "method1": "objects.filter", "arg1": '{"password": "x"}'},
         'Unknown field "password" for Abonents'),
        ({"model": "Secrets", "method1": "objects.all"},
         'Unknown model "Secrets"; GET /rest_api/v2/ lists them'),
        ({"model": "Abonents", "method1": "objects.delete"},
         'Method "objects.delete" is not allowed on Abonents (allowed here: objects.filter, '
         "objects.exclude, objects.get, objects.all, objects.count)"),
    ],
)
def test_refusals_by_permission_and_whitelist(client, clerk, legacy_on, world, params, text):
    key = key_of(client)
    before = db_state()
    response = php_call_api(client, key, params)
    assert (response.status_code, response.json()) == (200, {"error_text": text,
                                                             "error": text})
    assert db_state() == before


def test_writes_need_post_and_the_change_permission(client, clerk, legacy_on, world):
    sub = world["sub"]
    key = key_of(client)
    chain = {"model": "Abonents", "method1": "objects.get", "arg1": json.dumps({"id": sub.pk}),
             "method2": "add_payment", "arg2": '{"SUM_IN": "600"}', "format": "json",
             "hash_key": key}
    before = db_state()
    response = client.get("/rest_api/?" + urlencode(chain))
    text = "method2 add_payment: add_payment changes data: send the request with POST"
    assert (response.status_code, response.json()) == (405, {"error_text": text, "error": text})
    response = client.post("/rest_api/", chain)
    text = "method2 add_payment: Permission denied: clerk may not change Abonents"
    assert (response.status_code, response.json()) == (200, {"error_text": text, "error": text})
    assert db_state() == before
    grant(clerk, "subscribers.change_subscriber", "finance.view_account")
    response = client.post("/rest_api/", {**chain, "fields": '["balance"]'})
    assert response.json() == {"result": {"result": {
        "pk": sub.pk, "model": "AdminAccounts", "fields": {"balance": "600.00"}}}}
    payment = Operation.objects.get(account_id=sub.pk)
    assert payment.amount == Decimal("600.00")
    assert AuditEntry.objects.filter(actor="rest_api:clerk:127.0.0.1").exists()


def test_create_needs_the_add_permission(client, clerk, legacy_on, world, attributes):
    key = key_of(client)
    grant(clerk, "subscribers.change_attributevalue")
    data = {"model": "AttributeValues", "method1": "objects.create", "format": "json",
            "arg1": json.dumps({"abonent_id": world["sub"].pk, "attribute_id": 4,
                                "attribute_value": "7701234567"}), "hash_key": key}
    before = db_state()
    text = "Permission denied: clerk may not add AttributeValues"
    assert client.post("/rest_api/", data).json() == {"error_text": text, "error": text}
    assert db_state() == before


def test_a_superuser_may_do_what_rest_v2_allows(client, django_user_model, legacy_on, world):
    django_user_model.objects.create_superuser("boss", password=PASSWORD)
    key = key_of(client, username="boss")
    response = php_call_api(client, key, {"model": "Abonents", "method1": "objects.filter",
                                          "arg1": json.dumps({"id": world["sub"].pk}),
                                          "fields1": '["tarif__name","account__balance"]'})
    assert get_field(response.json(), "tarif") == {
        "pk": world["sub"].tariff_id, "model": "Tarif", "fields": {"name": "Home 100"}}


@pytest.mark.parametrize("case", ["missing", "wrong", "other_ip", "expired", "deactivated",
                                  "not_staff"])
def test_keys_that_do_not_open(client, clerk, legacy_on, world, case):
    key = key_of(client)
    remote = "127.0.0.1"
    when = timezone.now()
    if case == "missing":
        key = ""
    elif case == "wrong":
        key = "0" * 40
    elif case == "other_ip":
        remote = "::1"  # allowed, but not the address that logged in
    elif case == "expired":
        when += dt.timedelta(minutes=61)
    elif case == "deactivated":
        clerk.is_active = False
        clerk.save()
    elif case == "not_staff":
        clerk.is_staff = False
        clerk.save()
    with time_machine.travel(when):
        response = php_call_api(client, key, {"model": "Abonents", "method1": "objects.all"},
                                remote=remote)
    text = ("Access denied: hash_key is missing, wrong or expired; get one with "
            "/admin/?username=…&password=…&api=Y")
    assert (response.status_code, response.json()) == (403, {"error_text": text,
                                                             "error": text})


def test_key_lifetime_follows_the_config(client, clerk, legacy_on, world, config_edit):
    config_edit("network", "api.legacy_rest.key_ttl", "5")
    key = key_of(client)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=4)):
        assert php_call_api(client, key, {"model": "Abonents",
                                          "method1": "objects.count"}).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        assert php_call_api(client, key, {"model": "Abonents",
                                          "method1": "objects.count"}).status_code == 403


def test_password_and_key_never_reach_the_logs(client, clerk, legacy_on, world, caplog):
    import logging

    from asr_billing.core.logging import redact

    with caplog.at_level(logging.INFO, logger="asr_billing.system_api"):
        key = key_of(client)
        php_call_api(client, key, {"model": "Abonents", "method1": "objects.all"})
        php_login(client, password="wrong-guess")
        php_login(client, username="evil\nforged line")
    text = "\n".join(redact(r.getMessage()) for r in caplog.records)
    assert "rest_api login 127.0.0.1 user=evil\\nforged line 403 refused:credentials" in text
    assert "rest_api login 127.0.0.1 user=clerk 200 ok" in text
    assert "rest_api 127.0.0.1 user=clerk GET [objects.all] 200 ok" in text
    assert PASSWORD not in text and key not in text and "wrong-guess" not in text
    # The access log line of the server carries the URL: the filter masks both.
    line = (f'"GET /admin/?username=clerk&password={PASSWORD}&api=Y&format=json HTTP/1.1" '
            f'"GET /rest_api/?model=Abonents&hash_key={key}&format=json HTTP/1.1"')
    assert redact(line) == ('"GET /admin/?username=clerk&password=***&api=Y&format=json '
                            'HTTP/1.1" "GET /rest_api/?model=Abonents&hash_key=***&format=json '
                            'HTTP/1.1"')
