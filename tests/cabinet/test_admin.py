"""The cabinet's admin pages: lists render, actions go through the services."""

from __future__ import annotations

from decimal import Decimal

from asr_billing.cabinet.models import AuthThrottle, CabinetSession, PendingPayment
from asr_billing.finance.models import Account

from .conftest import LOGIN, PASSWORD


def test_lists_render(admin_client, cab, suid, world):
    cab("login", {"login": LOGIN, "passwd": "guess"})
    cab("add_payment_operation", {"suid": suid, "summa_in": "100", "operator": "SBERBANK_ACQ"})
    for page in ("cabinetsession", "auththrottle", "pendingpayment"):
        response = admin_client.get(f"/admin/cabinet/{page}/")
        assert response.status_code == 200, page
    session = CabinetSession.objects.get()
    detail = admin_client.get(f"/admin/cabinet/cabinetsession/{session.pk}/change/")
    assert detail.status_code == 200 and session.key_hash not in detail.content.decode()


def test_actions(admin_client, cab, suid, world):
    order = cab("add_payment_operation", {"suid": suid, "summa_in": "100",
                                          "operator": "SBERBANK_ACQ"})["operation_id_out"]
    admin_client.post("/admin/cabinet/pendingpayment/",
                      {"action": "confirm_selected", "_selected_action": [order]})
    assert PendingPayment.objects.get().status == "paid"
    assert Account.objects.get(pk=world["subscriber"].pk).balance == Decimal("490.67")
    admin_client.post("/admin/cabinet/cabinetsession/", {
        "action": "close_selected",
        "_selected_action": list(CabinetSession.objects.values_list("pk", flat=True))})
    assert cab("user_info", {"suid": suid}) == {"error": "Необходимо авторизоваться"}
    cab("login", {"login": LOGIN, "passwd": "guess"})
    admin_client.post("/admin/cabinet/auththrottle/", {
        "action": "unlock_selected",
        "_selected_action": list(AuthThrottle.objects.values_list("pk", flat=True))})
    assert not AuthThrottle.objects.exists()
    assert "session_id" in cab("login", {"login": LOGIN, "passwd": PASSWORD})
