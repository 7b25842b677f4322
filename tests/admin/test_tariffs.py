"""Tariffs and services in the admin: saved through the audited services, and a new
disconnect threshold applies to the tariff's subscribers at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from asr_billing.core.models import AuditEntry
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Service, Tariff

pytestmark = pytest.mark.django_db


def form_data(obj, **changes) -> dict:
    data = {}
    for name, value in {**model_to_dict(obj, exclude=["id"]), **changes}.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = str(value)
    return data


def test_a_new_threshold_cuts_off_the_tariffs_subscribers_at_once(admin_client, isp, tariff):
    offline = isp.offline  # balance 10.00, not cut off
    assert (offline.tariff, offline.negbal) == (tariff, False)
    url = reverse("admin:tariffs_tariff_change", args=[tariff.pk])
    response = admin_client.post(url, form_data(tariff, disconnect_threshold="100.00"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Subscriber.objects.get(pk=offline.pk).negbal is True
    entry = AuditEntry.objects.get(action="tariff_update")
    assert (entry.actor, entry.old, entry.new) == (
        "admin:admin", {"disconnect_threshold": "0.00"}, {"disconnect_threshold": "100.00"})
    assert AuditEntry.objects.filter(action="negbal_on", subscriber=offline).exists()


def test_tariff_and_service_adds_and_fee_changes_are_audited(admin_client, isp):
    response = admin_client.post(reverse("admin:tariffs_tariff_add"), form_data(
        Tariff(name="Turbo", fee=Decimal("900.00"))))
    assert response.status_code == 302, response.context["adminform"].form.errors
    turbo = Tariff.objects.get(name="Turbo")
    assert AuditEntry.objects.get(action="tariff_create").object_id == str(turbo.pk)

    service = isp.service
    url = reverse("admin:tariffs_service_change", args=[service.pk])
    response = admin_client.post(url, form_data(service, fee="120.00"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Service.objects.get(pk=service.pk).fee == Decimal("120.00")
    entry = AuditEntry.objects.get(action="service_update")
    assert (entry.old, entry.new) == ({"fee": "100.00"}, {"fee": "120.00"})


def test_a_negative_fee_is_a_form_error_and_changes_nothing(admin_client, isp, tariff):
    url = reverse("admin:tariffs_tariff_change", args=[tariff.pk])
    response = admin_client.post(url, form_data(tariff, fee="-5.00"))
    assert response.status_code == 200
    assert Tariff.objects.get(pk=tariff.pk).fee == Decimal("600.00")
    assert not AuditEntry.objects.filter(action="tariff_update").exists()


def test_an_iptv_package_is_edited_as_lines(admin_client, isp):
    service = isp.service
    url = reverse("admin:tariffs_service_change", args=[service.pk])
    response = admin_client.post(url, form_data(service, channels="Первый канал\r\n NTV \r\n"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Service.objects.get(pk=service.pk).channels == "Первый канал\nNTV"
    entry = AuditEntry.objects.get(action="service_update")
    assert (entry.actor, entry.new) == ("admin:admin", {"channels": "Первый канал\nNTV"})
    listing = admin_client.get(reverse("admin:tariffs_service_changelist"))
    assert "Телеканалы" in listing.content.decode()  # the column, in Russian
    response = admin_client.post(url, form_data(service, channels="x" * 201))
    assert response.status_code == 200
    assert Service.objects.get(pk=service.pk).channels == "Первый канал\nNTV"


@pytest.mark.parametrize("value, message", [
    ("1e13", "Ensure that there are no more than 12 digits before the decimal point."),
    ("1" * 30, "Ensure that there are no more than 14 digits in total."),
    ("1E+999999", "Ensure that there are no more than 14 digits in total."),
])
@pytest.mark.parametrize("field", ["fee", "disconnect_threshold", "voluntary_block_fee",
                                   "promised_amount"])
def test_amounts_past_the_column_are_form_errors(admin_client, isp, tariff, field, value,
                                                 message, config_edit, settings):
    from tests.conftest import db_state

    config_edit("app", "language", "en")
    settings.LANGUAGE_CODE = "en"  # the lazy form errors are read after the request
    before = db_state()
    service = isp.service
    for url, obj in [(reverse("admin:tariffs_tariff_change", args=[tariff.pk]), tariff),
                     (reverse("admin:tariffs_tariff_add"), Tariff(name="Huge")),
                     (reverse("admin:tariffs_service_change", args=[service.pk]), service)]:
        name = field if isinstance(obj, Tariff) else "fee"
        response = admin_client.post(url, form_data(obj, **{name: value}))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {name: [message]}
    assert db_state() == before
    assert not AuditEntry.objects.filter(action__in=["tariff_update", "tariff_create",
                                                     "service_update"]).exists()
