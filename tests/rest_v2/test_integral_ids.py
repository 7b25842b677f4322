"""Ids written "2.0" are ids: the Android cabinet (reference §0 C-APP) reads answers through
Gson's Map<String, Any>, which turns every number into a Double, and sends the id back as
"2.0". REST v2 takes them wherever an integer field is read (lookups, ``set``, the cabinet
bridge); "2.5", "2.0e3" and "abc" stay refused with the existing error, changing nothing."""

from __future__ import annotations

import json

import pytest

from asr_billing.subscribers.models import SubscriberService
from asr_billing.tariffs.models import Service

from .conftest import db_state


@pytest.fixture
def world(subscriber, make_login):
    make_login(subscriber, "testlogin", password="testpsw", ip="10.20.30.41")
    return subscriber


def test_objects_get_with_an_id_written_as_a_double(rest, world):
    status, body = rest("Abonents", ("objects.get", {"id": f"{world.pk}.0"}), fields=["name"])
    assert (status, body["result"]["pk"]) == (200, world.pk)


def test_lookups_take_such_ids_in_lists_and_relations(rest, world):
    _status, body = rest("Users", ("objects.filter", {"abonent__pk": f"{world.pk}.00"}),
                         fields=["login"])
    assert [row["fields"]["login"] for row in body["result"]] == ["testlogin"]
    _status, body = rest("Abonents", ("objects.filter", {"id__in": [f"{world.pk}.0", "0.0"]}),
                         fields=["name"])
    assert [row["pk"] for row in body["result"]] == [world.pk]


@pytest.mark.parametrize("value", ["2.5", "2.0e3", "abc", "1e3", "2,0"])
def test_other_spellings_are_refused(rest, world, value):
    before = db_state()
    status, body = rest("Abonents", ("objects.get", {"id": value}))
    assert (status, body["error"]) == (200, f'id expects an integer, got "{value}"')
    assert db_state() == before


def test_set_user_usluga_through_rest_with_a_double_id(rest, world):
    # The Android cabinet's usluga_id "2.0", sent through the Laravel-style REST bridge.
    service = Service.objects.create(name="Статический IP-адрес", fee="0.00")
    _status, body = rest("Users", ("web_cabinet.login", {"login": "testlogin",
                                                         "passwd": "testpsw"}))
    suid = json.loads(body["result"][0])["session_id"]
    _status, body = rest("Users", ("web_cabinet.set_user_usluga",
                                   {"usluga_id": f"{service.pk}.0", "suid": suid}))
    assert json.loads(body["result"][0])["message"] == "Услуга Статический IP-адрес подключена"
    assert SubscriberService.objects.get().service_id == service.pk
