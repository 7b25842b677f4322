"""Every admin page renders for a superuser, and the history stays read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup
from django.urls import reverse

from asr_billing.core.models import Counter

pytestmark = pytest.mark.django_db


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_changelist_add_and_change_page_renders(admin_client, isp):
    AuthGroup.objects.create(name="operators")
    checked = []
    for model, model_admin in registered():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        response = admin_client.get(reverse(f"{prefix}_changelist"))
        assert response.status_code == 200, opts.label
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the fixture has no {opts.label}"
        response = admin_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
        assert response.status_code == 200, opts.label
        response = admin_client.get(reverse(f"{prefix}_add"))
        expected = 200 if model_admin.has_add_permission(response.wsgi_request) else 403
        assert response.status_code == expected, opts.label
        checked.append(opts.label)
    assert {
        "subscribers.Subscriber", "subscribers.Group", "subscribers.Attribute",
        "tariffs.Tariff", "tariffs.Service", "network.Nas", "network.Login",
        "network.OnlineSession", "finance.Operation", "finance.Account",
        "finance.PaymentOperator", "core.AuditEntry", "billing.PromisedPayment",
        "billing.VoluntaryBlock",
    } <= set(checked)


def test_counter_is_hidden(admin_client):
    assert Counter not in admin.site._registry


def test_index_has_the_site_header(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "asr-billing" in response.content.decode()


@pytest.mark.parametrize(
    "model", ["finance.operation", "finance.account", "core.auditentry",
              "network.onlinesession", "billing.promisedpayment", "billing.voluntaryblock"],
)
def test_history_is_read_only_for_a_superuser(admin_client, isp, model):
    from django.apps import apps

    app_label, model_name = model.split(".")
    obj = apps.get_model(app_label, model_name).objects.order_by("pk").first()
    prefix = f"admin:{app_label}_{model_name}"
    assert admin_client.get(reverse(f"{prefix}_add")).status_code == 403
    assert admin_client.post(reverse(f"{prefix}_add"), {}).status_code == 403
    assert admin_client.post(reverse(f"{prefix}_change", args=[obj.pk]), {}).status_code == 403
    assert admin_client.get(reverse(f"{prefix}_delete", args=[obj.pk])).status_code == 403
    assert admin_client.post(reverse(f"{prefix}_delete", args=[obj.pk]),
                             {"post": "yes"}).status_code == 403
    obj.refresh_from_db()  # still there
