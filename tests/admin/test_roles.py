"""Operator roles (core/roles.py): groups made by seed_reference (`asr-billing init`). A
cashier takes payments and sees subscribers; support changes subscribers but moves no
money; an administrator may do everything. Each refused action is refused and changes
nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from asr_billing.core.roles import ADMINISTRATOR, CASHIER, SUPPORT, roles_ensure
from asr_billing.finance.models import Account, Operation
from asr_billing.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def url(name, subscriber):
    return reverse(f"admin:subscribers_subscriber_{name}", args=[subscriber.pk])


@pytest.fixture
def operator_in(client, django_user_model):
    def log_in(role: str):
        roles_ensure()
        user = django_user_model.objects.create_user(f"op-{len(role)}", password="pw-op-12345",
                                                     is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return log_in


def test_init_makes_the_three_roles_and_a_second_run_changes_nothing():
    call_command("seed_reference", verbosity=0)
    first = {g.name: set(g.permissions.values_list("codename", flat=True))
             for g in Group.objects.all()}
    assert set(first) >= {CASHIER, SUPPORT, ADMINISTRATOR}
    call_command("seed_reference", verbosity=0)
    again = {g.name: set(g.permissions.values_list("codename", flat=True))
             for g in Group.objects.all()}
    assert again == first
    assert "add_operation" in first[CASHIER] and "post_correction" not in first[CASHIER]
    assert "add_operation" not in first[SUPPORT] and "change_subscriber" in first[SUPPORT]
    assert {"post_correction", "change_tariff", "add_user"} <= first[ADMINISTRATOR]


def test_a_cashier_takes_payments_and_nothing_else(operator_in, isp, operator):
    client = operator_in(CASHIER)
    target = isp.negbal
    assert client.get(reverse("admin:subscribers_subscriber_changelist")).status_code == 200
    page = client.get(reverse("admin:subscribers_subscriber_change", args=[target.pk]))
    assert page.status_code == 200
    assert url("payment", target) in page.content.decode()
    assert url("correction", target) not in page.content.decode()
    response = client.post(url("payment", target), {"amount": "600,00", "operator": operator.pk,
                                                    "external_id": "desk-1"})
    assert response.status_code == 302
    assert Account.objects.get(pk=target.pk).balance == Decimal("0.00")
    count = Operation.objects.count()
    assert client.post(url("correction", target), {"amount": "5", "description": "x"}
                       ).status_code == 403
    assert client.post(url("block", target), {"reason": "x"}).status_code == 403
    name = Subscriber.objects.get(pk=target.pk).name
    client.post(reverse("admin:subscribers_subscriber_change", args=[target.pk]),
                {"name": "Renamed"})
    assert Subscriber.objects.get(pk=target.pk).name == name
    assert client.get(reverse("admin:tariffs_tariff_add")).status_code == 403
    ledger = client.get(reverse("admin:finance_operation_changelist")).content.decode()
    assert "reverse_selected" not in ledger  # no reversals either
    assert Operation.objects.count() == count
    target.refresh_from_db()
    assert target.admin_blocked is False


def test_support_changes_subscribers_but_moves_no_money(operator_in, isp, operator):
    client = operator_in(SUPPORT)
    target = isp.negbal
    before = Account.objects.get(pk=target.pk).balance
    assert client.post(url("payment", target), {"amount": "10", "operator": operator.pk}
                       ).status_code == 403
    assert client.post(url("correction", target), {"amount": "5", "description": "x"}
                       ).status_code == 403
    assert client.post(url("promised", target), {}).status_code == 403
    assert Account.objects.get(pk=target.pk).balance == before
    assert Account.objects.get(pk=target.pk).promised_amount == Decimal("0.00")
    response = client.post(url("block", target), {"reason": "asked by phone"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.admin_blocked is True


def test_an_administrator_may_correct_a_balance(operator_in, isp):
    client = operator_in(ADMINISTRATOR)
    response = client.post(url("correction", isp.paid_online),
                           {"amount": "-0,50", "description": "rounding"})
    assert response.status_code == 302
    assert Account.objects.get(pk=isp.paid_online.pk).balance == Decimal("999.50")


def test_the_ledger_offers_reversals_to_whoever_may_correct(admin_client, isp):
    ledger = admin_client.get(reverse("admin:finance_operation_changelist")).content.decode()
    assert "reverse_selected" in ledger  # what the cashier's page above lacks


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_corrections_for_whoever_could_post_money(django_user_model):
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("finance", "0004_reconciliation")])
    try:
        Permission.objects.filter(codename="post_correction").delete()  # as before 0005
        money = Permission.objects.get(codename="add_operation")
        desk = Group.objects.create(name="Old front desk")
        desk.permissions.add(money)
        clerk = django_user_model.objects.create_user("clerk", is_staff=True)
        clerk.user_permissions.add(money)
        viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    for user in (clerk, viewer):
        user = django_user_model.objects.get(pk=user.pk)  # no cached permissions
        assert user.has_perm("finance.post_correction") is (user.username == "clerk")
    assert desk.permissions.filter(codename="post_correction").exists()
