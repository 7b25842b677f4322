"""Registry reconciliation in the admin: upload, the stored report with its lines,
posting a report's missing payments, refusals and permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from asr_billing.finance.models import Operation, Reconciliation
from tests.conftest import db_state
from tests.finance.reconcile_helpers import D, full_ledger

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:finance_reconciliation_upload")
CHANGELIST = reverse("admin:finance_reconciliation_changelist")


@pytest.fixture
def english_admin(config_edit):
    config_edit("app", "language", "en")
    config_edit("payments", "sberbank.reg.operator", "SBER_REG")


def change_url(report) -> str:
    return reverse("admin:finance_reconciliation_change", args=[report.pk])


def post_missing_url(report) -> str:
    return reverse("admin:finance_reconciliation_post_missing", args=[report.pk])


def upload(client, data: bytes, **fields):
    fields.setdefault("gateway", "sberbank.reg")
    registry = SimpleUploadedFile("sber-15.txt", data, content_type="text/plain")
    return client.post(UPLOAD, {"file": registry, **fields})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_upload_with_posting_stores_the_report(admin_client, make_subscriber, english_admin):
    ledger = full_ledger(make_subscriber)
    page = admin_client.get(UPLOAD)
    assert page.status_code == 200
    assert [c[0] for c in page.context["form"].fields["gateway"].choices] == [
        "osmp.demo", "sberbank.demo", "sberbank.reg", "webhook.demo"]
    response = upload(admin_client, ledger.registry, post_missing="on")
    report = Reconciliation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(report)
    t5 = Operation.objects.get(pay_operator=ledger.operator, external_id="T5")
    assert (t5.amount, t5.actor, t5.created_by.username) == (D("150.00"), "admin:admin", "admin")
    assert (report.file_name, report.post_missing, report.posted_count,
            report.unresolved_count, report.created_by.username) == (
        "sber-15.txt", True, 1, 5, "admin")
    page = admin_client.get(response["Location"])
    assert messages_of(page) == [f"Reconciliation #{report.pk} stored: 5 lines differ."]
    html = page.content.decode()
    assert f"posted as operation #{t5.pk}" in html
    assert "amount: registry 350.00, billing 300.00" in html
    # T10 is still missing (its account names nobody): the button stays
    assert post_missing_url(report) in html


def test_a_malformed_upload_is_a_form_error_and_changes_nothing(
        admin_client, make_subscriber, english_admin):
    ledger = full_ledger(make_subscriber)
    before = db_state()
    bad = ledger.registry.replace(b";500.00;5.00;", b";5e2;5.00;")
    response = upload(admin_client, bad, post_missing="on")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Line 2: amount '5e2' is not an amount greater than zero with at most 2 decimal places"]
    assert db_state() == before
    assert Reconciliation.objects.count() == 0


def test_the_report_is_read_only_and_posting_its_missing_payments_makes_a_new_one(
        admin_client, make_subscriber, english_admin):
    rows = [("T1", "100001", "500.00", "09:00:00"), ("T5", "100003", "150.00", "12:00:00")]
    ledger = full_ledger(make_subscriber, rows=rows)
    upload(admin_client, ledger.registry)
    report = Reconciliation.objects.get()
    assert (report.posted_count, report.missing_in_billing_count) == (0, 1)
    assert admin_client.post(change_url(report), {}).status_code == 403
    assert admin_client.get(post_missing_url(report)).status_code == 405
    response = admin_client.post(post_missing_url(report))
    again = Reconciliation.objects.exclude(pk=report.pk).get()
    assert response["Location"] == change_url(again)
    assert (again.posted_count, again.posted_amount, again.file_sha256) == (
        1, D("150.00"), report.file_sha256)
    assert post_missing_url(again) not in admin_client.get(change_url(again)).content.decode()
    # the old report's button again: a third report, nothing posted twice
    admin_client.post(post_missing_url(report))
    third = Reconciliation.objects.order_by("-pk").first()
    assert (third.posted_count, third.matched_count) == (0, 2)
    assert Operation.objects.filter(external_id="T5").count() == 1
    assert ledger.operator.pk == third.operator_id


def test_the_list_has_the_upload_button(admin_client, english_admin):
    assert UPLOAD in admin_client.get(CHANGELIST).content.decode()


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_reconciliation"))
    client.force_login(user)
    return user


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def test_upload_and_posting_need_their_permissions(client, staff, make_subscriber,
                                                   english_admin):
    ledger = full_ledger(make_subscriber)
    assert client.get(CHANGELIST).status_code == 200
    assert UPLOAD not in client.get(CHANGELIST).content.decode()
    assert client.get(UPLOAD).status_code == 403
    grant(staff, "add_reconciliation")
    form = client.get(UPLOAD).context["form"]
    assert "post_missing" not in form.fields
    # post_missing sent anyway is ignored without the money permission
    upload(client, ledger.registry, post_missing="on")
    report = Reconciliation.objects.get()
    assert (report.post_missing, report.posted_count) == (False, 0)
    assert client.post(post_missing_url(report)).status_code == 403
    assert not Operation.objects.filter(external_id="T5").exists()
    grant(staff, "add_operation")
    assert client.post(post_missing_url(report)).status_code == 302
    assert Operation.objects.filter(external_id="T5").count() == 1


def test_a_gateway_no_longer_configured_is_refused_on_posting(
        admin_client, make_subscriber, english_admin, config_edit):
    ledger = full_ledger(make_subscriber)
    upload(admin_client, ledger.registry)
    report = Reconciliation.objects.get()
    config_edit("payments", "sberbank.reg.operator", "")
    admin_client.get(change_url(report))  # shows (and so clears) the upload's message
    response = admin_client.post(post_missing_url(report), follow=True)
    assert messages_of(response) == [
        "No gateway sberbank.reg with a payment operator in cfg/config "
        "(payments['<type>.<name>.operator']); configured: osmp.demo, sberbank.demo, "
        "webhook.demo"]
    assert Reconciliation.objects.count() == 1
