"""Payments and corrections from the subscriber page; the ledger's Reverse action."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, OperationType

pytestmark = pytest.mark.django_db


def mentions(text: str, operation_id: int) -> bool:
    """An operation number as the messages write it: "#12" in English, "№12" in Russian."""
    return re.search(rf"[#№]{operation_id}\b", text) is not None


def payment_url(subscriber):
    return reverse("admin:subscribers_subscriber_payment", args=[subscriber.pk])


def correction_url(subscriber):
    return reverse("admin:subscribers_subscriber_correction", args=[subscriber.pk])


def balance(subscriber) -> Decimal:
    return Account.objects.get(pk=subscriber.pk).balance


def test_payment_form_renders_with_the_balance(admin_client, isp):
    response = admin_client.get(payment_url(isp.negbal))
    assert response.status_code == 200
    assert response.context["account"].balance == Decimal("-600.00")


def test_payment_is_registered_with_an_exact_balance(admin_client, isp, operator):
    target = isp.negbal  # -600.00
    response = admin_client.post(payment_url(target), {
        "amount": "600,01", "operator": operator.pk, "external_id": "cash-77",
        "description": "at the office",
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:subscribers_subscriber_change",
                                           args=[target.pk])
    assert balance(target) == Decimal("0.01")
    payment = Operation.objects.get(external_id="cash-77")
    assert payment.type == OperationType.PAYMENT
    assert payment.amount == Decimal("600.01")
    assert payment.created_by.username == "admin"
    target.refresh_from_db()
    assert target.negbal is False
    assert AuditEntry.objects.filter(action="payment", subscriber=target,
                                     actor="admin:admin").exists()


def test_messages_write_money_as_the_pages_do(admin_client, isp, operator):
    response = admin_client.post(payment_url(isp.negbal), {
        "amount": "1354,88", "operator": operator.pk, "external_id": "cash-78"}, follow=True)
    [text] = [str(m) for m in response.context["messages"]]
    assert "1354,88" in text and "754,88" in text, text  # Russian: a decimal comma
    assert "754.88" not in text


def test_payment_replay_adds_nothing(admin_client, isp, operator):
    data = {"amount": "1000.00", "operator": operator.pk, "external_id": "ext-1",
            "description": ""}
    count = Operation.objects.count()
    response = admin_client.post(payment_url(isp.paid_online), data, follow=True)
    assert response.status_code == 200
    assert Operation.objects.count() == count
    assert balance(isp.paid_online) == Decimal("1000.00")
    texts = " ".join(str(m) for m in response.context["messages"])
    assert mentions(texts, isp.payment.pk), texts


def test_payment_replay_with_another_amount_is_a_form_error(admin_client, isp, operator):
    data = {"amount": "999.00", "operator": operator.pk, "external_id": "ext-1",
            "description": ""}
    count = Operation.objects.count()
    response = admin_client.post(payment_url(isp.paid_online), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Operation.objects.count() == count
    assert balance(isp.paid_online) == Decimal("1000.00")


@pytest.mark.parametrize("amount", ["-5", "0", "1.001", "abc", "", "1e3", "NaN"])
def test_bad_payment_amount_is_an_error_and_changes_nothing(admin_client, isp, amount):
    count = Operation.objects.count()
    response = admin_client.post(payment_url(isp.negbal), {"amount": amount,
                                                           "description": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert Operation.objects.count() == count
    assert balance(isp.negbal) == Decimal("-600.00")


def test_external_id_needs_an_operator(admin_client, isp):
    count = Operation.objects.count()
    response = admin_client.post(payment_url(isp.negbal), {"amount": "10",
                                                           "external_id": "x1"})
    assert response.status_code == 200
    assert response.context["form"].errors["operator"]
    assert Operation.objects.count() == count


def test_correction_posts_a_signed_amount(admin_client, isp):
    target = isp.paid_online
    response = admin_client.post(correction_url(target), {"amount": "-150.50",
                                                          "description": "double payment"})
    assert response.status_code == 302
    assert balance(target) == Decimal("849.50")
    correction = Operation.objects.get(type=OperationType.CORRECTION)
    assert correction.amount == Decimal("-150.50")
    assert correction.description == "double payment"
    assert AuditEntry.objects.filter(action="correction", subscriber=target).exists()


@pytest.mark.parametrize(("amount", "description", "field"), [
    ("10", "", "description"),
    ("10", "   ", "description"),
    ("0", "why", "amount"),
    ("1.001", "why", "amount"),
    ("abc", "why", "amount"),
])
def test_bad_correction_is_an_error_and_changes_nothing(admin_client, isp, amount,
                                                        description, field):
    count = Operation.objects.count()
    response = admin_client.post(correction_url(isp.paid_online),
                                 {"amount": amount, "description": description})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Operation.objects.count() == count
    assert balance(isp.paid_online) == Decimal("1000.00")


def test_money_pages_need_the_permission(client, django_user_model, isp):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(user)
    assert client.get(payment_url(isp.negbal)).status_code == 403
    assert client.post(payment_url(isp.negbal), {"amount": "10"}).status_code == 403
    assert client.post(correction_url(isp.negbal),
                       {"amount": "10", "description": "x"}).status_code == 403
    assert balance(isp.negbal) == Decimal("-600.00")


LEDGER = reverse("admin:finance_operation_changelist")


def reverse_action(client, operation):
    return client.post(LEDGER, {"action": "reverse_selected",
                                ACTION_CHECKBOX_NAME: [operation.pk]}, follow=True)


def test_reverse_action_creates_one_reversal_and_refuses_the_second(admin_client, isp):
    payment = isp.payment
    response = reverse_action(admin_client, payment)
    assert response.status_code == 200
    reversal = Operation.objects.get(reverses=payment)
    assert reversal.type == OperationType.REVERSAL
    assert reversal.amount == Decimal("-1000.00")
    assert balance(isp.paid_online) == Decimal("0.00")
    assert AuditEntry.objects.filter(action="reversal", subscriber=isp.paid_online).count() == 1

    count = Operation.objects.count()
    response = reverse_action(admin_client, payment)
    texts = [str(m) for m in response.context["messages"]]
    assert any(mentions(t, payment.pk) and ("already reversed" in t or "уже сторнирована" in t)
               for t in texts), texts
    assert Operation.objects.count() == count

    response = reverse_action(admin_client, reversal)  # a reversal is not reversed
    texts = [str(m) for m in response.context["messages"]]
    assert any(mentions(t, reversal.pk) for t in texts), texts
    assert Operation.objects.count() == count
    assert balance(isp.paid_online) == Decimal("0.00")


def test_ledger_list_shows_reversal_state_and_filters(admin_client, isp):
    reverse_action(admin_client, isp.payment)
    response = admin_client.get(LEDGER)
    html = response.content.decode()
    assert "BILL0000003" in html
    assert "ext-1" in html
    rows = {op.pk: op for op in response.context["cl"].result_list}
    reversal = Operation.objects.get(reverses=isp.payment)
    assert rows[isp.payment.pk].reversal_id == reversal.pk
    response = admin_client.get(LEDGER, {"type__exact": OperationType.REVERSAL})
    assert [op.pk for op in response.context["cl"].result_list] == [reversal.pk]
    for term in ("ext-1", "BILL0000003", str(isp.payment.pk)):
        response = admin_client.get(LEDGER, {"q": term})
        assert isp.payment.pk in {op.pk for op in response.context["cl"].result_list}, term
    response = admin_client.get(LEDGER, {"account": isp.negbal.pk})
    assert {op.account_id for op in response.context["cl"].result_list} == {isp.negbal.pk}


def test_ledger_cannot_be_added_changed_or_deleted(admin_client, isp):
    payment = isp.payment
    assert admin_client.get(reverse("admin:finance_operation_add")).status_code == 403
    url = reverse("admin:finance_operation_change", args=[payment.pk])
    assert admin_client.get(url).status_code == 200  # viewing is fine
    assert admin_client.post(url, {"amount": "1.00"}).status_code == 403
    url = reverse("admin:finance_operation_delete", args=[payment.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    response = admin_client.post(LEDGER, {"action": "delete_selected", "post": "yes",
                                          ACTION_CHECKBOX_NAME: [payment.pk]})
    assert response.status_code in (200, 302)
    payment.refresh_from_db()
    assert payment.amount == Decimal("1000.00")
    assert Operation.objects.filter(pk=payment.pk).exists()
