"""``fields``: selection, foreign-key expansion at any depth, reverse relations, nulls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import SubscriberService
from asr_billing.tariffs.models import Service
from tests.rest_v2.conftest import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(subscriber, make_login, nas):
    make_login(subscriber, "alpha", ip="10.0.0.11")
    make_login(subscriber, "beta", ip="10.0.0.12", mac="001122334455")
    payment_register(subscriber=subscriber, amount=Decimal("99.90"), actor=ACTOR)
    return subscriber


def get(rest, model, lookup, fields):
    status, body = rest(model, ("objects.get", lookup), fields=fields)
    assert status == 200, body
    return body["result"]


def test_fk_embeds_the_object_with_its_defaults_and_adds_the_id(rest, world, tariff):
    result = get(rest, "Abonents", {"id": world.pk}, ["tarif"])
    assert list(result["fields"]) == ["tarif", "tarif_id"]
    embedded = result["fields"]["tarif"]
    assert (embedded["pk"], embedded["model"]) == (tariff.pk, "Tarif")
    assert embedded["fields"] == {
        "id": tariff.pk, "name": "Home 100", "summa": "600.00", "charge_method": "monthly",
        "disconnect_threshold": "0.00", "rate_in": 100000, "ceil_in": 100000, "burst_in": None,
        "cburst_in": None, "rate_out": 50000, "ceil_out": 50000, "burst_out": None,
        "cburst_out": None, "is_active": 1,
    }
    assert result["fields"]["tarif_id"] == tariff.pk


def test_fk_with_a_field_embeds_only_that_field(rest, world, tariff):
    result = get(rest, "Abonents", {"id": world.pk}, ["tarif__name", "tarif__summa", "name"])
    assert result["fields"] == {
        "tarif": {"pk": tariff.pk, "model": "Tarif",
                  "fields": {"name": "Home 100", "summa": "600.00"}},
        "tarif_id": tariff.pk,
        "name": "Иванов Иван Иванович",
    }


def test_fk_defaults_and_named_fields_together(rest, world, tariff):
    result = get(rest, "Abonents", {"id": world.pk}, ["tarif", "tarif__comments"])
    assert result["fields"]["tarif"]["fields"]["comments"] == ""  # not a default field
    assert result["fields"]["tarif"]["fields"]["name"] == "Home 100"


def test_id_only(rest, world, tariff):
    assert get(rest, "Abonents", {"id": world.pk}, ["tarif_id"])["fields"] == {
        "tarif_id": tariff.pk}


def test_null_fk(rest, world):
    result = get(rest, "Abonents", {"id": world.pk}, ["tarif_next", "tarif_next__name"])
    assert result["fields"] == {"tarif_next": None, "tarif_next_id": None}


def test_reverse_relation(rest, world, nas):
    result = get(rest, "Abonents", {"id": world.pk}, ["users__login", "users__mac"])
    assert result["fields"]["users"] == [
        {"pk": result["fields"]["users"][0]["pk"], "model": "Users",
         "fields": {"login": "alpha", "mac": ""}},
        {"pk": result["fields"]["users"][1]["pk"], "model": "Users",
         "fields": {"login": "beta", "mac": "00:11:22:33:44:55"}},
    ]
    assert "users_id" not in result["fields"]


def test_depth_three_and_four(rest, world, nas, tariff):
    result = get(rest, "Abonents", {"id": world.pk}, ["users__nas__ip"])
    assert [u["fields"]["nas"]["fields"] for u in result["fields"]["users"]] == [
        {"ip": "10.0.0.1"}, {"ip": "10.0.0.1"}]
    assert [u["fields"]["nas_id"] for u in result["fields"]["users"]] == [nas.pk, nas.pk]
    result = get(rest, "Users", {"login": "beta"}, ["abonent__account__abonent__tarif__name"])
    assert result["fields"] == {
        "abonent": {"pk": world.pk, "model": "Abonents", "fields": {
            "account": {"pk": world.pk, "model": "AdminAccounts", "fields": {
                "abonent": {"pk": world.pk, "model": "Abonents", "fields": {
                    "tarif": {"pk": tariff.pk, "model": "Tarif", "fields": {"name": "Home 100"}},
                    "tarif_id": tariff.pk}},
                "abonent_id": world.pk}},
            "account_id": world.pk}},
        "abonent_id": world.pk,
    }


def test_reverse_then_forward_then_reverse(rest, world):
    result = get(rest, "Users", {"login": "alpha"}, ["abonent__users__login"])
    assert [u["fields"]["login"] for u in result["fields"]["abonent"]["fields"]["users"]] == [
        "alpha", "beta"]


def test_finance_operation_expansions(rest, world):
    _status, body = rest("FinanceOperations", ("objects.filter", {"abonent_id": world.pk}),
                        fields=["op_summa", "abonent__contract_number", "account__balance"])
    assert body["result"] == [{"pk": body["result"][0]["pk"], "model": "FinanceOperations",
                               "fields": {
        "op_summa": "99.90",
        "abonent": {"pk": world.pk, "model": "Abonents",
                    "fields": {"contract_number": world.contract_number}},
        "abonent_id": world.pk,
        "account": {"pk": world.pk, "model": "AdminAccounts", "fields": {"balance": "99.90"}},
        "account_id": world.pk,
    }}]


def test_filters_across_relations(rest, world, make_subscriber):
    other = make_subscriber(name="Другой")
    service = Service.objects.create(name="ТВ", fee=Decimal("1.00"))
    SubscriberService.objects.create(subscriber=world, service=service,
                                     enabled_on=dt.date(2024, 1, 1))
    cases = [
        ("Abonents", {"users__login": "beta"}, [world.pk]),
        ("Abonents", {"users__login__in": ["alpha", "beta"]}, [world.pk]),  # distinct
        ("Abonents", {"uslugi__usluga__name": "ТВ"}, [world.pk]),
        ("Abonents", {"users__isnull": True}, [other.pk]),
        ("Abonents", {"tarif__name__icontains": "home"}, [world.pk, other.pk]),
        ("Abonents", {"account__balance__gt": "0"}, [world.pk]),
        ("Users", {"abonent__name__icontains": "Иванов"}, None),  # SQLite: Latin case only
        ("Users", {"abonent": world.pk, "ip__in": ["10.0.0.12"]}, None),
        ("FinanceOperations", {"abonent__contract_number": world.contract_number}, None),
    ]
    for model, lookup, expected in cases:
        status, body = rest(model, ("objects.filter", lookup), fields=["id"])
        assert status == 200, (lookup, body)
        pks = [row["pk"] for row in body["result"]]
        if expected is not None:
            assert pks == expected, lookup
        else:
            assert pks, lookup


def test_default_fields_of_every_model_are_readable(rest, world, attributes):
    rest("AttributeValues", ("objects.create", {"abonent_id": world.pk, "attribute_id": 4,
                                                "attribute_value": "7701"}))
    for model in ("Abonents", "Users", "AdminAccounts", "FinanceOperations", "Tarif", "Usluga",
                  "UsersUsluga", "AttributeValues", "Nas"):
        status, body = rest(model, ("objects.all", None))
        assert status == 200, (model, body)
        assert "error" not in body
