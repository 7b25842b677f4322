"""Logins and NAS devices: naming rules, IP/MAC rules, encrypted passwords and secrets."""

from __future__ import annotations

import json

import pytest

from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import Login, Nas, NasType
from asr_billing.network.selectors import login_check_password, login_password
from asr_billing.network.services import (
    login_create,
    login_set_password,
    login_update,
    nas_create,
    normalize_mac,
)
from tests.conftest import ACTOR, db_state

pytestmark = pytest.mark.usefixtures("english")


def audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def all_audit_text() -> str:
    return json.dumps(
        list(AuditEntry.objects.values("old", "new", "message")), ensure_ascii=False
    )


# -- login_create ----------------------------------------------------------------------------


def test_login_create(subscriber, nas):
    login = login_create(
        subscriber=subscriber,
        login="testlogin",
        password="testpsw",
        actor=ACTOR,
        ip=" 10.20.30.41 ",
        mac="00-1A-2B-3C-4D-5E",
        snat_ip="203.0.113.7",
        nas=nas,
    )
    login = Login.objects.get(pk=login.pk)
    assert (login.subscriber, login.login, login.enabled) == (subscriber, "testlogin", True)
    assert (login.ip, login.mac, login.snat_ip, login.nas) == (
        "10.20.30.41", "00:1a:2b:3c:4d:5e", "203.0.113.7", nas)
    [entry] = audit("login_create")
    assert entry.subscriber_id == subscriber.pk
    assert entry.new == {"login": "testlogin", "ip": "10.20.30.41", "mac": "00:1a:2b:3c:4d:5e",
                         "nas": nas.pk}


def test_password_is_encrypted_at_rest(subscriber, make_login):
    login = make_login(subscriber, "testlogin", password="testpsw")
    stored = Login.objects.get(pk=login.pk).password_enc
    assert stored and stored != "testpsw" and "testpsw" not in stored
    assert decrypt_secret(stored) == "testpsw"
    assert login_password(login) == "testpsw"
    assert login_check_password(login, "testpsw") is True
    assert login_check_password(login, "testpsw ") is False
    assert login_check_password(login, "TESTPSW") is False
    assert login_check_password(login, "") is False
    assert login_check_password(login, None) is False
    # Two logins with the same password are not recognisable as such.
    other = make_login(subscriber, "other", password="testpsw")
    assert Login.objects.get(pk=other.pk).password_enc != stored
    assert "testpsw" not in all_audit_text()


@pytest.mark.parametrize(
    ("mac", "expected"),
    [
        ("00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5e"),
        ("00-1A-2B-3C-4D-5E", "00:1a:2b:3c:4d:5e"),
        ("001A.2B3C.4D5E", "00:1a:2b:3c:4d:5e"),  # Cisco
        ("001a2b3c4d5e", "00:1a:2b:3c:4d:5e"),
        (" 00 1a 2b 3c 4d 5e ", "00:1a:2b:3c:4d:5e"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mac_normalisation(mac, expected):
    assert normalize_mac(mac) == expected


def test_ip_forms_are_normalised(subscriber, make_login):
    assert make_login(subscriber, "v6", ip="2001:DB8:0:0::41").ip == "2001:db8::41"
    # An IPv4-mapped IPv6 address is the IPv4 address: one IP, one enabled login.
    assert make_login(subscriber, "mapped", ip="::ffff:10.20.30.41").ip == "10.20.30.41"
    assert Login.objects.get(login="mapped").ip == "10.20.30.41"
    with pytest.raises(Conflict):
        make_login(subscriber, "plain", ip="10.20.30.41")


NAME_RULE = "A login is 1-64 Latin letters, digits and . _ @ + -; got {!r}"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"login": ""}, InvalidInput, NAME_RULE.format("")),
        ({"login": "with space"}, InvalidInput, NAME_RULE.format("with space")),
        ({"login": "логин"}, InvalidInput, NAME_RULE.format("логин")),
        ({"login": "a" * 65}, InvalidInput, NAME_RULE.format("a" * 65)),
        ({"login": "taken"}, Conflict, "Login taken is taken"),
        ({"login": " taken "}, Conflict, "Login taken is taken"),
        ({"password": ""}, InvalidInput, "The password cannot be empty"),
        ({"password": None}, InvalidInput, "The password cannot be empty"),
        ({"password": "two words"}, InvalidInput,
         "The password must have no spaces and at most 64 characters"),
        ({"password": "p" * 65}, InvalidInput,
         "The password must have no spaces and at most 64 characters"),
        ({"ip": "10.0.0.256"}, InvalidInput, "IP: 10.0.0.256 is not an IP address"),
        ({"ip": "10.0.0.0/24"}, InvalidInput, "IP: 10.0.0.0/24 is not an IP address"),
        ({"ip": "fe80::1%eth0"}, InvalidInput, "IP: fe80::1%eth0 is not an IP address"),
        ({"snat_ip": "nat"}, InvalidInput, "SNAT IP: nat is not an IP address"),
        ({"mac": "00:1a:2b:3c:4d"}, InvalidInput, "Invalid MAC address: 00:1a:2b:3c:4d"),
        ({"mac": "00:1a:2b:3c:4d:5g"}, InvalidInput, "Invalid MAC address: 00:1a:2b:3c:4d:5g"),
        ({"ip": "10.20.30.41"}, Conflict,
         "IP address 10.20.30.41 belongs to another enabled login"),
    ],
)
def test_bad_login_is_refused(subscriber, make_login, kwargs, error, message):
    make_login(subscriber, "taken", ip="10.20.30.41")
    args = {"login": "newlogin", "password": "secret1", **kwargs}
    before = db_state()
    with pytest.raises(error) as info:
        login_create(subscriber=subscriber, actor=ACTOR, **args)
    assert str(info.value) == message
    assert db_state() == before


def test_a_disabled_login_may_share_an_ip(subscriber, make_login):
    enabled = make_login(subscriber, "enabled", ip="10.20.30.41")
    stale = make_login(subscriber, "stale", ip="10.20.30.41", enabled=False)
    also_stale = make_login(subscriber, "stale2", ip="10.20.30.41", enabled=False)
    assert {stale.ip, also_stale.ip} == {enabled.ip}
    # Enabling one of them while the IP is in use is refused.
    before = db_state()
    with pytest.raises(Conflict) as info:
        login_update(login=stale, actor=ACTOR, enabled=True)
    assert str(info.value) == "IP address 10.20.30.41 belongs to another enabled login"
    assert db_state() == before
    # Once the first one is disabled, it can be.
    login_update(login=enabled, actor=ACTOR, enabled=False)
    assert login_update(login=stale, actor=ACTOR, enabled=True).enabled is True


def test_logins_without_ip_do_not_collide(subscriber, make_login):
    make_login(subscriber, "a")
    make_login(subscriber, "b", ip="")
    assert list(Login.objects.values_list("ip", flat=True)) == [None, None]


# -- login_update and login_set_password --------------------------------------------------------


def test_login_update_changes_and_audits(subscriber, make_login, nas):
    login = make_login(subscriber, "testlogin", ip="10.20.30.41")
    nas2 = nas_create(name="NAS 2", ip="10.0.0.2", actor=ACTOR)
    updated = login_update(login=login, actor=ACTOR, ip="10.20.30.42", mac="AABBCCDDEEFF",
                           snat_ip="", nas=nas2)
    assert (updated.ip, updated.mac, updated.snat_ip, updated.nas) == (
        "10.20.30.42", "aa:bb:cc:dd:ee:ff", None, nas2)
    [entry] = audit("login_update")
    assert entry.old == {"ip": "10.20.30.41", "mac": "", "snat_ip": None, "nas": nas.pk,
                         "enabled": True}
    assert entry.new == {"ip": "10.20.30.42", "mac": "aa:bb:cc:dd:ee:ff", "snat_ip": None,
                         "nas": nas2.pk, "enabled": True}
    login_update(login=login, actor=ACTOR, ip="10.20.30.42")  # no change: no audit row
    assert len(audit("login_update")) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ip": "999.1.1.1"}, "IP: 999.1.1.1 is not an IP address"),
        ({"mac": "zz"}, "Invalid MAC address: zz"),
        ({"snat_ip": "x"}, "SNAT IP: x is not an IP address"),
    ],
)
def test_bad_login_update_is_refused(subscriber, make_login, kwargs, message):
    login = make_login(subscriber, "testlogin", ip="10.20.30.41")
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        login_update(login=login, actor=ACTOR, **kwargs)
    assert str(info.value) == message
    assert db_state() == before


def test_set_password(subscriber, make_login):
    login = make_login(subscriber, "testlogin", password="old-psw")
    login_set_password(login=login, password="new-psw", actor=ACTOR)
    fresh = Login.objects.get(pk=login.pk)
    assert login_check_password(fresh, "new-psw") is True
    assert login_check_password(fresh, "old-psw") is False
    [entry] = audit("password_change")
    assert (entry.old, entry.new) == (None, None)
    assert "new-psw" not in all_audit_text() and "old-psw" not in all_audit_text()

    before = db_state()
    with pytest.raises(InvalidInput) as info:
        login_set_password(login=login, password="has space", actor=ACTOR)
    assert str(info.value) == "The password must have no spaces and at most 64 characters"
    assert db_state() == before


# -- nas_create ---------------------------------------------------------------------------------


def test_nas_create_encrypts_the_radius_secret(db):
    nas = nas_create(name=" Core ", ip="10.0.0.9", actor=ACTOR, nas_type=NasType.MIKROTIK,
                     radius_secret="s3cret", description="Стойка 2")
    nas = Nas.objects.get(pk=nas.pk)
    assert (nas.name, nas.ip, nas.nas_type, nas.description) == (
        "Core", "10.0.0.9", "mikrotik", "Стойка 2")
    assert nas.radius_secret_enc and "s3cret" not in nas.radius_secret_enc
    assert decrypt_secret(nas.radius_secret_enc) == "s3cret"
    [entry] = audit("nas_create")
    assert entry.new == {"name": "Core", "ip": "10.0.0.9"}
    assert "s3cret" not in all_audit_text()
    assert nas_create(name="No secret", ip="10.0.0.10", actor=ACTOR).radius_secret_enc == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": ""}, InvalidInput, "The NAS needs a name"),
        ({"name": "  "}, InvalidInput, "The NAS needs a name"),
        ({"name": "N" * 201}, InvalidInput, "The NAS name is longer than 200 characters"),
        ({"nas_type": "huawei"}, InvalidInput, "Unknown NAS type: huawei"),
        ({"ip": ""}, InvalidInput, "The NAS needs an IP address"),
        ({"ip": None}, InvalidInput, "The NAS needs an IP address"),
        ({"ip": "nas.example"}, InvalidInput, "IP: nas.example is not an IP address"),
        ({"ip": "10.0.0.1"}, Conflict, "A NAS with IP 10.0.0.1 exists already"),
        ({"ip": "::ffff:10.0.0.1"}, Conflict, "A NAS with IP 10.0.0.1 exists already"),
    ],
)
def test_bad_nas_is_refused(nas, kwargs, error, message):
    args = {"name": "NAS 2", "ip": "10.0.0.2", **kwargs}
    before = db_state()
    with pytest.raises(error) as info:
        nas_create(actor=ACTOR, **args)
    assert str(info.value) == message
    assert db_state() == before
