"""Logins and NAS in the admin: writes through services, secrets never shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from asr_billing.core.models import AuditEntry
from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import Login, Nas
from asr_billing.network.selectors import login_check_password

pytestmark = pytest.mark.django_db
LOGINS = reverse("admin:network_login_changelist")


def login_form(login, **extra):
    data = {
        "new_password": "", "enabled": "on" if login.enabled else "",
        "ip": login.ip or "", "mac": login.mac, "snat_ip": login.snat_ip or "",
        "nas": login.nas_id or "", "comments": login.comments,
    }
    data.update(extra)
    return {k: v for k, v in data.items() if not (k == "enabled" and v == "")}


def test_password_never_appears_in_admin_html(admin_client, isp):
    login = isp.login
    secret, cipher = "testpsw", Login.objects.get(pk=login.pk).password_enc
    assert cipher
    pages = [
        reverse("admin:network_login_change", args=[login.pk]),
        LOGINS,
        LOGINS + "?q=testlogin",
        reverse("admin:subscribers_subscriber_change", args=[login.subscriber_id]),
        reverse("admin:network_login_history", args=[login.pk]),
        reverse("admin:core_auditentry_changelist"),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert secret not in html, url
        assert cipher not in html, url
        assert cipher[:20] not in html, url
    # ... also after a password change, and the new one is stored encrypted.
    url = reverse("admin:network_login_change", args=[login.pk])
    response = admin_client.post(url, login_form(login, new_password="N3w-pass"))
    assert response.status_code == 302
    login.refresh_from_db()
    assert login_check_password(login, "N3w-pass")
    assert AuditEntry.objects.filter(action="password_change", object_id=str(login.pk)).exists()
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert "N3w-pass" not in html and login.password_enc not in html, url
    entry = AuditEntry.objects.filter(action="password_change").latest("id")
    assert "N3w-pass" not in str(entry.old) + str(entry.new) + entry.message


def test_empty_password_field_keeps_the_password(admin_client, isp):
    login = isp.login
    before = Login.objects.get(pk=login.pk).password_enc
    url = reverse("admin:network_login_change", args=[login.pk])
    response = admin_client.post(url, login_form(login, mac="00-1A-2B-3C-4D-5F"))
    assert response.status_code == 302
    login.refresh_from_db()
    assert login.password_enc == before
    assert login.mac == "00:1a:2b:3c:4d:5f"  # normalized by the service
    entry = AuditEntry.objects.get(action="login_update", object_id=str(login.pk))
    assert entry.new["mac"] == "00:1a:2b:3c:4d:5f"


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("mac", "zz:zz", "zz:zz"),
    ("new_password", "with space", None),
    ("ip", "10.20.30.42", "10.20.30.42"),  # the IP of petrov's enabled login
    ("ip", "not-an-ip", None),
])
def test_login_edit_errors_are_form_errors(admin_client, isp, field, value, needle):
    login = isp.login
    before = Login.objects.values().get(pk=login.pk)
    url = reverse("admin:network_login_change", args=[login.pk])
    response = admin_client.post(url, login_form(login, **{field: value}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors[field]
    if needle:
        assert needle in str(errors[field])
    assert Login.objects.values().get(pk=login.pk) == before


def test_add_login_through_the_service(admin_client, isp, nas):
    url = reverse("admin:network_login_add")
    page = admin_client.get(url, {"subscriber": isp.offline.pk})
    assert page.status_code == 200
    data = {"subscriber": isp.offline.pk, "login": "romashka2", "new_password": "Pa55word",
            "enabled": "on", "ip": "10.20.31.6", "mac": "", "snat_ip": "", "nas": nas.pk,
            "comments": "office"}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    login = Login.objects.get(login="romashka2")
    assert login.subscriber == isp.offline
    assert login.comments == "office"
    assert decrypt_secret(login.password_enc) == "Pa55word"
    assert AuditEntry.objects.filter(action="login_create", object_id=str(login.pk)).exists()


@pytest.mark.parametrize(("extra", "field"), [
    ({"login": "testlogin"}, "login"),  # taken
    ({"login": "bad login"}, "login"),
    ({"new_password": ""}, "new_password"),  # a new login needs one
])
def test_add_login_errors(admin_client, isp, nas, extra, field):
    count = Login.objects.count()
    data = {"subscriber": isp.offline.pk, "login": "fresh", "new_password": "Pa55word",
            "enabled": "on", "ip": "", "mac": "", "snat_ip": "", "nas": nas.pk, "comments": ""}
    data.update(extra)
    response = admin_client.post(reverse("admin:network_login_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert Login.objects.count() == count


def test_service_refusal_in_save_becomes_a_form_error(admin_client, isp, monkeypatch):
    """A refusal the form could not foresee (a race) is shown on the form, not a 500."""
    from asr_billing.core.errors import Conflict
    from asr_billing.network import admin as network_admin

    def refuse(**kwargs):
        raise Conflict("IP address 10.0.0.9 belongs to another enabled login")

    monkeypatch.setattr(network_admin, "login_update", refuse)
    login = isp.login
    before = Login.objects.values().get(pk=login.pk)
    url = reverse("admin:network_login_change", args=[login.pk])
    response = admin_client.post(url, login_form(login, comments="changed",
                                                 new_password="Other-1"))
    assert response.status_code == 200
    assert "belongs to another enabled login" in str(
        response.context["adminform"].form.non_field_errors())
    assert Login.objects.values().get(pk=login.pk) == before


def test_login_search_and_filters(admin_client, isp, nas):
    def found(**params):
        response = admin_client.get(LOGINS, params)
        return {o.login for o in response.context["cl"].result_list}

    assert found(q="10.20.30.41") == {"testlogin"}
    assert found(q="00-1A-2B-3C-4D-5E") == {"testlogin"}
    assert found(q="BILL0000003") == {"testlogin"}
    assert found(enabled__exact="0") == {"romashka"}
    assert found(online="yes") == {"testlogin"}
    assert found(nas__id__exact=nas.pk) == {"testlogin", "petrov", "romashka"}


def test_nas_secret_is_write_only(admin_client, isp, nas):
    original = Nas.objects.get(pk=nas.pk).radius_secret_enc
    url = reverse("admin:network_nas_change", args=[nas.pk])
    html = admin_client.get(url).content.decode()
    assert "s3cret" not in html and original not in html
    data = {"name": "NAS one", "ip": "10.0.0.1", "nas_type": "mikrotik", "new_secret": "",
            "coa_port": 3799, "ipoe_match": "ip", "description": ""}
    assert admin_client.post(url, data).status_code == 302
    nas.refresh_from_db()
    assert nas.name == "NAS one" and nas.radius_secret_enc == original
    assert admin_client.post(url, {**data, "new_secret": "n3w"}).status_code == 302
    nas.refresh_from_db()
    assert decrypt_secret(nas.radius_secret_enc) == "n3w"
    entry = AuditEntry.objects.filter(action="nas_update").latest("id")
    assert "n3w" not in str(entry.new) and entry.new["radius_secret_changed"] is True


def test_nas_add_and_duplicate_ip(admin_client, isp, nas):
    url = reverse("admin:network_nas_add")
    data = {"name": "NAS 2", "ip": "10.0.0.2", "nas_type": "other", "new_secret": "abc",
            "coa_port": 1700, "ipoe_match": "mac", "description": ""}
    assert admin_client.post(url, data).status_code == 302
    created = Nas.objects.get(ip="10.0.0.2")
    assert decrypt_secret(created.radius_secret_enc) == "abc"
    assert (created.coa_port, created.ipoe_match) == (1700, "mac")
    response = admin_client.post(url, {**data, "name": "Copy"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["ip"]
    assert Nas.objects.count() == 2
