"""The cabinet's admin pages: lists render, actions go through the services."""

from __future__ import annotations

from decimal import Decimal

from asr_billing.cabinet.models import AuthThrottle, CabinetSession, PendingPayment
from asr_billing.cabinet.services import cabinet_sessions_end, cabinet_throttles_clear
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account

from .conftest import IP, LOGIN, PASSWORD, db_state


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
    [ended] = AuditEntry.objects.filter(action="cabinet_session_end")
    assert (ended.actor, ended.subscriber_id, ended.message) == (
        "admin:admin", world["subscriber"].pk, LOGIN)
    cab("login", {"login": LOGIN, "passwd": "guess"})
    admin_client.post("/admin/cabinet/auththrottle/", {
        "action": "unlock_selected",
        "_selected_action": list(AuthThrottle.objects.values_list("pk", flat=True))})
    assert not AuthThrottle.objects.exists()
    assert sorted((e.actor, e.old["scope"], e.old["key"], e.old["failures"]) for e in
                  AuditEntry.objects.filter(action="cabinet_throttle_clear")) == [
        ("admin:admin", "login", LOGIN, 1)]  # 127.0.0.1 is a cabinet server: no "ip" row
    assert "session_id" in cab("login", {"login": LOGIN, "passwd": PASSWORD})


def test_ending_sessions_passes_over_closed_and_unknown_ones(cab, suid, world):
    cab("logout", {"suid": suid})
    before = db_state()
    assert cabinet_sessions_end(session_ids=[*CabinetSession.objects.values_list(
        "pk", flat=True), 999_999], actor="test") == 0
    assert cabinet_sessions_end(session_ids=[], actor="test") == 0
    assert db_state() == before


def test_ending_sessions_ends_only_those_named(cab, world):
    first = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    second = cab("try_auto_login", {"src_ip": IP})["session_id"]
    auto = CabinetSession.objects.get(method="auto_ip")
    assert cabinet_sessions_end(session_ids=[auto.pk], actor="test") == 1
    assert cab("user_info", {"suid": second}) == {"error": "Необходимо авторизоваться"}
    assert "balance" in cab("user_info", {"suid": first})
    entry = AuditEntry.objects.get(action="cabinet_session_end")
    assert (entry.object_type, entry.object_id, entry.old) == (
        "cabinetsession", str(auto.pk), {"closed_at": None})


def test_clearing_throttles_passes_over_unknown_ones(cab, world):
    cab("login", {"login": LOGIN, "passwd": "guess"})
    before = db_state()
    assert cabinet_throttles_clear(throttle_ids=[999_999], actor="test") == 0
    assert db_state() == before
