"""API keys in the admin: made through the service, the key shown once, bad input refused
on the form, revoked by an action, never deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from asr_billing.api.keys import apikey_for
from asr_billing.api.models import ApiKey

pytestmark = pytest.mark.django_db
ADD = "admin:api_apikey_add"


def test_make_a_key_in_the_admin(admin_client):
    answer = admin_client.post(reverse(ADD), {
        "name": "Website", "scopes": ["read", "payments"], "allowed_ips": "10.0.0.0/8",
        "rate_per_minute": "120"}, follow=True)
    assert answer.status_code == 200
    row = ApiKey.objects.get()
    shown = [str(m) for m in answer.context["messages"]]
    [text] = [m for m in shown if " asr_" in m]
    key = text.rsplit(" ", 1)[-1]
    assert apikey_for(key) == row
    assert row.scopes == ["read", "payments"] and row.actor == "admin:admin"
    # The change page shows the prefix, never the key.
    page = admin_client.get(reverse("admin:api_apikey_change", args=[row.pk])).content.decode()
    assert row.prefix in page and key not in page


@pytest.mark.parametrize("data, field", [
    ({"name": "", "scopes": ["read"], "rate_per_minute": "1"}, "name"),
    ({"name": "X", "scopes": [], "rate_per_minute": "1"}, "scopes"),
    ({"name": "X", "scopes": ["root"], "rate_per_minute": "1"}, "scopes"),
    ({"name": "X", "scopes": ["read"], "allowed_ips": "10.0.0.300", "rate_per_minute": "1"},
     "allowed_ips"),
    ({"name": "X", "scopes": ["read"], "rate_per_minute": "-1"}, "rate_per_minute"),
])
def test_bad_input_on_the_form_makes_nothing(admin_client, data, field):
    answer = admin_client.post(reverse(ADD), data)
    assert answer.status_code == 200
    assert field in answer.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_revoke_action_and_no_delete(admin_client, make_key):
    created = make_key("read")
    answer = admin_client.post(reverse("admin:api_apikey_changelist"), {
        "action": "revoke", "_selected_action": [created.api_key.pk]}, follow=True)
    assert answer.status_code == 200
    assert ApiKey.objects.get().revoked_at is not None
    assert apikey_for(created.key) is None
    assert admin_client.get(
        reverse("admin:api_apikey_delete", args=[created.api_key.pk])).status_code == 403
