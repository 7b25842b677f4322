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
    checked = []  # models whose change page was seen too
    for model, model_admin in registered():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        response = admin_client.get(reverse(f"{prefix}_changelist"))
        assert response.status_code == 200, opts.label
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:  # models other apps register may have no row in this fixture
            response = admin_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
            assert response.status_code == 200, opts.label
            checked.append(opts.label)
        response = admin_client.get(reverse(f"{prefix}_add"))
        expected = 200 if model_admin.has_add_permission(response.wsgi_request) else 403
        assert response.status_code == expected, opts.label
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


def test_view_site_opens_the_cabinet(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<a href="/cabinet/">' in page


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


def test_lift_voluntary_block_action(admin_client, isp):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from asr_billing.billing.models import VoluntaryBlock
    from asr_billing.core.models import AuditEntry

    block = VoluntaryBlock.objects.get(subscriber=isp.voluntary)
    url = reverse("admin:billing_voluntaryblock_changelist")
    data = {"action": "end_selected", ACTION_CHECKBOX_NAME: [block.pk]}
    assert admin_client.post(url, data).status_code == 302
    block.refresh_from_db()
    isp.voluntary.refresh_from_db()
    assert block.ended_at is not None
    assert isp.voluntary.voluntary_blocked is False
    assert AuditEntry.objects.filter(action="voluntary_block_end", subscriber=isp.voluntary,
                                     actor="admin:admin").exists()
    response = admin_client.post(url, data, follow=True)  # a second time: refused, a message
    texts = [str(m) for m in response.context["messages"]]
    assert any(isp.voluntary.contract_number in t for t in texts), texts
    assert AuditEntry.objects.filter(action="voluntary_block_end").count() == 1
