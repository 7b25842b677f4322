"""Groups, subscriptions, tariffs, services and NAS through the API: the services'
checks and audit rows; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.core.models import AuditEntry
from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import Nas
from asr_billing.subscribers.models import Group, SubscriberService
from asr_billing.tariffs.models import Service, Tariff
from tests.api.test_writes import refused


def nas_secret(nas: Nas) -> str:
    return decrypt_secret(nas.radius_secret_enc)

pytestmark = pytest.mark.django_db


def test_groups(admin_api, group):
    made = admin_api.post("/api/v1/groups/", {"name": "Child", "parent": group.pk},
                          format="json")
    assert made.status_code == 201, made.content
    child = Group.objects.get(pk=made.json()["id"])
    assert child.parent == group
    assert AuditEntry.objects.filter(action="group_create", object_id=str(child.pk)).exists()
    refused(admin_api, "post", "/api/v1/groups/", {"name": "Child", "parent": group.pk}, 409)
    refused(admin_api, "post", "/api/v1/groups/", {"name": ""}, 400, "name")
    # A group cannot go inside its own child.
    refused(admin_api, "patch", f"/api/v1/groups/{group.pk}/", {"parent": child.pk}, 400)
    renamed = admin_api.patch(f"/api/v1/groups/{child.pk}/", {"name": "Renamed"},
                              format="json")
    assert renamed.json()["name"] == "Renamed"


def test_subscriptions(admin_api, subscriber):
    service = Service.objects.create(name="TV", fee=Decimal("100.00"))
    tomorrow = timezone.localdate() + timedelta(days=1)
    made = admin_api.post("/api/v1/subscriptions/", {
        "subscriber": subscriber.pk, "service": service.pk, "on": tomorrow.isoformat()},
        format="json")
    assert made.status_code == 201, made.content
    link = SubscriberService.objects.get(pk=made.json()["id"])
    assert link.enabled_on == tomorrow and link.disabled_on is None
    refused(admin_api, "post", "/api/v1/subscriptions/",
            {"subscriber": subscriber.pk, "service": service.pk}, 409)
    ended = admin_api.post(f"/api/v1/subscriptions/{link.pk}/disconnect/", {}, format="json")
    assert ended.status_code == 200 and ended.json()["disabled_on"] is not None
    refused(admin_api, "post", f"/api/v1/subscriptions/{link.pk}/disconnect/", {}, 409)
    refused(admin_api, "post", "/api/v1/subscriptions/",
            {"subscriber": subscriber.pk, "service": 999999}, 400, "service")


def test_tariffs(admin_api, make_key, client_for):
    made = admin_api.post("/api/v1/tariffs/", {
        "name": "Fast", "fee": "700.00", "charge_method": "monthly", "rate_in": 100000,
        "ceil_in": 100000}, format="json")
    assert made.status_code == 201, made.content
    tariff = Tariff.objects.get(pk=made.json()["id"])
    assert tariff.fee == Decimal("700.00")
    changed = admin_api.patch(f"/api/v1/tariffs/{tariff.pk}/", {"fee": "750.00"},
                              format="json")
    assert changed.status_code == 200 and changed.json()["fee"] == "750.00"
    assert AuditEntry.objects.filter(action="tariff_update", object_id=str(tariff.pk)).exists()
    refused(admin_api, "post", "/api/v1/tariffs/", {"name": "Fast", "fee": "1.00"}, 400, "name")
    refused(admin_api, "patch", f"/api/v1/tariffs/{tariff.pk}/", {"fee": "-1.00"}, 400)
    refused(admin_api, "patch", f"/api/v1/tariffs/{tariff.pk}/", {"charge_method": "hourly"},
            400, "charge_method")
    # Changing tariffs needs admin.
    writer = client_for(make_key("subscribers:write", "billing"))
    refused(writer, "patch", f"/api/v1/tariffs/{tariff.pk}/", {"fee": "1.00"}, 403)


def test_services(admin_api):
    made = admin_api.post("/api/v1/services/", {"name": "Static IP", "fee": "150.00"},
                          format="json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert admin_api.patch(f"/api/v1/services/{pk}/", {"is_active": False},
                           format="json").json()["is_active"] is False
    refused(admin_api, "post", "/api/v1/services/", {"name": "", "fee": "1.00"}, 400, "name")


def test_nas_secret_goes_in_never_out(admin_api):
    made = admin_api.post("/api/v1/nas/", {
        "name": "BRAS-2", "ip": "10.0.0.2", "nas_type": "mikrotik", "radius_secret": "s3cret-2"},
        format="json")
    assert made.status_code == 201, made.content
    nas = Nas.objects.get(pk=made.json()["id"])
    assert nas_secret(nas) == "s3cret-2"
    for url in ("/api/v1/nas/", f"/api/v1/nas/{nas.pk}/"):
        assert "s3cret" not in admin_api.get(url).content.decode()
    changed = admin_api.patch(f"/api/v1/nas/{nas.pk}/", {"radius_secret": "n3w", "coa_port": 1700},
                              format="json")
    assert changed.status_code == 200 and changed.json()["coa_port"] == 1700
    nas.refresh_from_db()
    assert nas_secret(nas) == "n3w"
    refused(admin_api, "post", "/api/v1/nas/", {"name": "X", "ip": "10.0.0.2"}, 409)
    refused(admin_api, "patch", f"/api/v1/nas/{nas.pk}/", {"coa_port": 70000}, 400, "coa_port")
    refused(admin_api, "post", "/api/v1/nas/", {"name": "X", "ip": "nope"}, 400, "ip")
