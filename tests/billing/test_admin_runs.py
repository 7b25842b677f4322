"""Billing runs in the admin: the list, a run with its error rows, read-only."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone

from asr_billing.billing.models import BillingRun, BillingRunError, RunStatus
from tests.billing.conftest import D, at


def test_run_pages(admin_client, subscriber):
    with at(date(2026, 3, 1), 12):
        now = timezone.now()
        run = BillingRun.objects.create(
            date=date(2026, 3, 1), first_date=date(2026, 3, 1), status=RunStatus.DONE,
            started_at=now, heartbeat_at=now, finished_at=now, subscribers_seen=3,
            charges_made=2, amount=D("20.00"), errors=1,
        )
        BillingRunError.objects.create(run=run, subscriber=subscriber, day=date(2026, 3, 1),
                                       stage="rules", message="ValueError: broken data")
    page = admin_client.get(reverse("admin:billing_billingrun_changelist"))
    assert page.status_code == 200
    # the amount, localized in the language the request runs in (app['language'])
    assert b"20,00" in page.content or b"20.00" in page.content
    page = admin_client.get(reverse("admin:billing_billingrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert "ValueError: broken data" in page.content.decode()
    assert subscriber.contract_number in page.content.decode()
    assert admin_client.post(reverse("admin:billing_billingrun_add"), {}).status_code == 403
    assert admin_client.post(reverse("admin:billing_billingrun_change", args=[run.pk]),
                             {}).status_code == 403
