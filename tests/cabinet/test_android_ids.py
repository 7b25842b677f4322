"""The Android cabinet (EnotVonTot/CarbonApp, reference §0 C-APP) reads get_usluga_list as
``List<List<Map<String, Any>>>`` through Gson, whose untyped maps turn every JSON number
into a Double: ``pk: 2`` was shown as, and sent back to set_user_usluga as, ``"2.0"``
(ServicesActivity: ``serviceMap["pk"]?.toString()``, then ``"usluga_id":"${service.id}"``).
So those lists send ids and flags as strings, and every id argument takes ``"2.0"``.

One test per field the app reads, each naming where it reads it."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from asr_billing.subscribers.models import SubscriberService
from asr_billing.subscribers.services import subscriber_service_connect

from .conftest import ACTOR, LOGIN, PASSWORD, db_state, url

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def w(world):
    with time_machine.travel(datetime(2024, 5, 10, 12, 0, tzinfo=MSK), tick=False):
        yield world


@pytest.fixture
def sid(w, cab):
    return cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]


def kotlin_to_string(value) -> str:
    """``Any?.toString()`` in Kotlin of what Gson put in a Map<String, Any>: a JSON number
    is a Double (2 -> "2.0"), a string stays itself, true -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # 2.0 -> "2.0", as Kotlin's Double.toString()
    return str(value)


@pytest.fixture
def gson_lists(client, w, sid):
    """get_usluga_list as the Android app's ServicesActivity asks for it (get_setted false),
    decoded the way Gson fills Map<String, Any>: every number a Double."""

    def read(get_setted=False):
        arg1 = {"filter": "", "get_user_uslugas_all": True, "get_user_uslugas": True,
                "get_setted": get_setted, "suid": sid}
        body = client.get(url("get_usluga_list", arg1)).content
        return json.loads(body, parse_int=float, parse_float=float)

    return read


def field(lists, index, name) -> list[str]:
    return [kotlin_to_string(item[name]) for item in lists[index]]


# --- What the app reads ------------------------------------------------------------------------


def test_offered_pk_reads_back_as_the_id(gson_lists, w):
    # ServicesActivity: data[0] serviceMap["pk"]?.toString() -> AvailableService.id
    ip, tv = w["services"]["ip"], w["services"]["tv"]
    assert field(gson_lists(), 0, "pk") == [str(tv.pk), str(ip.pk)]


def test_offered_is_show_web_is_the_string_1(gson_lists):
    # ServicesActivity: shows a service only when serviceMap["is_show_web"]?.toString() == "1"
    assert field(gson_lists(), 0, "is_show_web") == ["1", "1"]


def test_offered_web_allow_disable_is_a_string_flag(gson_lists):
    # ServicesActivity: serviceMap["web_allow_disable"]?.toString() ?: "0" (IPTV may not be
    # disconnected from the cabinet)
    assert field(gson_lists(), 0, "web_allow_disable") == ["0", "1"]


def test_offered_summa_is_money_text(gson_lists):
    # ServicesActivity: price = serviceMap["summa"]?.toString(); shows "<price> руб."
    assert field(gson_lists(), 0, "summa") == ["10.00", "150.00"]


def test_connected_pk_is_the_connection_id(gson_lists, w):
    # ServicesActivity: data[1] serviceMap["pk"]?.toString() -> UserService.id
    link = subscriber_service_connect(subscriber=w["subscriber"], service=w["services"]["tv"],
                                      actor=ACTOR)
    lists = gson_lists(get_setted=True)
    assert field(lists, 1, "pk") == [str(link.pk)]
    assert field(lists, 1, "id") == [str(link.pk)]
    assert field(lists, 1, "usluga_id") == [str(w["services"]["tv"].pk)]


def test_connected_activated_is_the_string_1(gson_lists, w):
    # ServicesActivity: "Активна" when serviceMap["activated"]?.toString() == "1"
    subscriber_service_connect(subscriber=w["subscriber"], service=w["services"]["tv"],
                               actor=ACTOR)
    assert field(gson_lists(), 1, "activated") == ["1"]


def test_connected_usluga_name_matches_a_description(gson_lists, w):
    # ServicesActivity: __usluga.split(":").first() is looked up among data[2] names, and
    # the match's pk marks the offered service as connected.
    tv = w["services"]["tv"]
    subscriber_service_connect(subscriber=w["subscriber"], service=tv, actor=ACTOR)
    lists = gson_lists(get_setted=True)
    names = {kotlin_to_string(d["name"]): kotlin_to_string(d["pk"]) for d in lists[2]}
    short = kotlin_to_string(lists[1][0]["__usluga"]).split(":")[0].strip()
    assert names[short] == str(tv.pk)
    assert str(tv.pk) in field(lists, 0, "pk")


def test_description_pk_is_a_string(gson_lists, w):
    # ServicesActivity: data[2] serviceMap["pk"]?.toString() -> serviceNameToId
    ip, tv = w["services"]["ip"], w["services"]["tv"]
    assert field(gson_lists(), 2, "pk") == [str(tv.pk), str(ip.pk)]


def test_every_value_in_the_lists_is_a_string(gson_lists, w):
    # Whatever the app reads next from these maps, it reads a string, never a Double.
    subscriber_service_connect(subscriber=w["subscriber"], service=w["services"]["tv"],
                               actor=ACTOR)
    for item in [entry for part in gson_lists(get_setted=True) for entry in part]:
        assert all(isinstance(value, str) for value in item.values()), item


# --- What the app sends back ---------------------------------------------------------------------


def test_connect_with_the_id_as_gson_spelled_it(cab, w, sid):
    # ServicesActivity.connectService: {"usluga_id":"2.0"} from an older answer with numbers
    tv = w["services"]["tv"]
    answer = cab("set_user_usluga", {"usluga_id": f"{tv.pk}.0", "suid": sid})
    assert answer["message"] == "Услуга IPTV подключена"
    assert SubscriberService.objects.get().service_id == tv.pk


def test_disconnect_with_ids_as_gson_spelled_them(cab, w, sid):
    # ServicesActivity.disconnectService sends usluga_id the same way
    ip = w["services"]["ip"]
    link = cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})["user_usluga_id"]
    answer = cab("remove_user_usluga", {"usluga_id": f"{ip.pk}.0", "suid": sid})
    assert (answer["status"], answer["usluga_id"]) == ("ok", ip.pk)
    cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})  # reopened, the same link
    answer = cab("remove_user_usluga", {"user_usluga_id": f"{link}.00", "suid": sid})
    assert (answer["status"], answer["user_usluga_id"]) == ("ok", link)


@pytest.mark.parametrize("value", ["2.5", "2.0e3", "abc", "2,0", "0x2", "2.0.0", ""])
def test_ids_that_are_not_whole_numbers_are_refused(cab, w, sid, value):
    before = db_state()
    answer = cab("set_user_usluga", {"usluga_id": value, "suid": sid})
    error = ("Argument usluga_id is required" if value == ""
             else f"Argument usluga_id must be a whole number, not {value}")
    assert answer == {"error": error}
    assert db_state() == before


def test_a_zero_fraction_of_zero_is_still_not_an_id(cab, w, sid):
    before = db_state()
    assert cab("set_user_usluga", {"usluga_id": "0.0", "suid": sid}) == {
        "error": "Argument usluga_id must be a positive whole number, not 0"}
    assert db_state() == before


def test_reset_uid_as_gson_spelled_it(cab, world, django_capture_on_commit_callbacks):
    # submit_password's uid is a login's (or subscriber's) id: "N.0" is that id too, and
    # wrong codes count against the one uid however it is spelled.
    from asr_billing.cabinet.models import AuthThrottle

    uid = world["login"].pk
    for spelling in (f"{uid}.0", f"+{uid}", f"{uid}.", f"0{uid}"):
        assert cab("submit_password", {"token": "WRONGCODE1", "uid": spelling, "psw1": "a1",
                                       "psw2": "a1"}) == {
            "error": "The code is wrong or has expired"}
    assert list(AuthThrottle.objects.values_list("scope", "key", "failures")) == [
        ("reset", str(uid), 4)]
    folder = settings.ASR_HOME.var_dir / "mail"
    shutil.rmtree(folder, ignore_errors=True)
    with django_capture_on_commit_callbacks(execute=True):
        cab("reset_password", {"login": LOGIN, "base_url": ""})
    mail = next(folder.glob("*.log")).read_text()
    code = re.search(r"Your code: ([A-Z0-9]+)", mail).group(1)
    assert cab("submit_password", {"token": code, "uid": f"{uid}.0", "psw1": "a1",
                                   "psw2": "a1"}) == {"message": "Сохранено"}
