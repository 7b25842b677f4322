"""Registry reconciliation (finance/reconcile.py): every category with exact values,
posting the missing payments exactly once, and refusals that change nothing."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from asr_billing.core.errors import InvalidInput, NotFound
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, Reconciliation, ReconciliationLine
from asr_billing.finance.reconcile import (
    RegistrySource,
    reconciliation_post_missing,
    registry_reconcile,
)
from asr_billing.finance.reconcile_registry import RegistryError, RegistrySettings
from asr_billing.finance.selectors import ledger_mismatches
from tests.conftest import db_state
from tests.finance.reconcile_helpers import SOURCE, D, at, full_ledger, sber_registry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def run(data, **kwargs):
    kwargs.setdefault("source", SOURCE)
    return registry_reconcile(data=data, file_name="reg.txt", actor="test", **kwargs)


def lines(report) -> list[tuple]:
    return list(
        report.lines.order_by("id").values_list(
            "category", "resolved", "line_no", "txn_id", "account", "registry_amount",
            "billing_amount", "contract_number", "posted", "message",
        )
    )


def counts(report) -> dict:
    fields = (
        "registry_count", "registry_amount", "registry_fee", "billing_count", "billing_amount",
        "matched_count", "missing_in_billing_count", "missing_in_registry_count",
        "mismatched_count", "reversed_count", "posted_count", "posted_amount",
        "unresolved_count",
    )
    return {name: getattr(report, name) for name in fields}


def reversal_of(txn: str) -> int:
    return Operation.objects.get(reverses__external_id=txn).pk


def test_every_category_exactly(make_subscriber):
    ledger = full_ledger(make_subscriber)
    report = run(ledger.registry)
    assert (report.gateway, report.operator, report.registry_format) == (
        "sberbank.reg", ledger.operator, "sberbank")
    assert (report.date_from, report.date_to) == (date(2024, 3, 15), date(2024, 3, 15))
    assert report.file_name == "reg.txt"
    assert report.file_sha256 == hashlib.sha256(ledger.registry).hexdigest()
    assert (report.actor, report.created_by, report.post_missing) == ("test", None, False)
    assert counts(report) == {
        "registry_count": 6, "registry_amount": D("1250.00"), "registry_fee": D("12.50"),
        "billing_count": 4, "billing_amount": D("940.00"),  # T1 500, T2 300, T9 40, T4 100
        "matched_count": 1, "missing_in_billing_count": 2, "missing_in_registry_count": 1,
        "mismatched_count": 2, "reversed_count": 1, "posted_count": 0,
        "posted_amount": D("0.00"), "unresolved_count": 6,
    }
    assert lines(report) == [
        ("matched", True, 2, "T1", "100001", D("500.00"), D("500.00"), "100001", False, ""),
        ("mismatched", False, 3, "T2", "100002", D("350.00"), D("300.00"), "100002", False,
         "amount: registry 350.00, billing 300.00"),
        ("reversed", False, 4, "T3", "100003", D("200.00"), D("200.00"), "100003", False,
         f"reversed by operation #{reversal_of('T3')}"),
        ("missing_in_billing", False, 5, "T5", "100003", D("150.00"), None, "", False, ""),
        ("mismatched", False, 6, "T9", "100002", D("40.00"), D("40.00"), "100001", False,
         "account 100002 is contract 100002; the billing credited contract 100001"),
        ("missing_in_billing", False, 7, "T10", "999999", D("10.00"), None, "", False, ""),
        ("missing_in_registry", False, None, "T4", "", None, D("100.00"), "100001", False, ""),
    ]
    t4 = report.lines.get(txn_id="T4")
    assert (t4.operation.external_id, t4.paid_at) == ("T4", at(12, 30))
    assert report.differs is True
    entry = AuditEntry.objects.get(action="reconcile")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        "test", "reconciliation", str(report.pk))
    assert entry.new == {
        "gateway": "sberbank.reg", "operator": "SBER_REG", "date": "2024-03-15",
        "file_sha256": report.file_sha256, "registry_count": 6, "registry_amount": "1250.00",
        "posted_count": 0, "posted_amount": "0.00", "unresolved_count": 6,
    }


def test_without_post_missing_nothing_moves(make_subscriber):
    ledger = full_ledger(make_subscriber)
    before = db_state()
    run(ledger.registry)
    after = db_state()
    assert after["audit"] == before["audit"] + 1  # the report's own entry
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"}


def test_post_missing_posts_once_and_the_second_run_posts_nothing(make_subscriber):
    ledger = full_ledger(make_subscriber)
    c_balance = Account.objects.get(pk=ledger.c.pk).balance
    first = run(ledger.registry, post_missing=True)
    t5 = Operation.objects.get(pay_operator=ledger.operator, external_id="T5")
    assert (t5.account_id, t5.amount, t5.op_date, t5.actor, t5.description) == (
        ledger.c.pk, D("150.00"), at(12), "test", "Registry reg.txt, line 5")
    assert Account.objects.get(pk=ledger.c.pk).balance == c_balance + D("150.00")
    assert counts(first) == {
        "registry_count": 6, "registry_amount": D("1250.00"), "registry_fee": D("12.50"),
        "billing_count": 5, "billing_amount": D("1090.00"),
        "matched_count": 1, "missing_in_billing_count": 2, "missing_in_registry_count": 1,
        "mismatched_count": 2, "reversed_count": 1, "posted_count": 1,
        "posted_amount": D("150.00"), "unresolved_count": 5,
    }
    missing = first.lines.filter(category="missing_in_billing").order_by("line_no")
    assert list(missing.values_list(
        "txn_id", "resolved", "posted", "operation_id", "billing_amount", "contract_number",
        "message",
    )) == [
        ("T5", True, True, t5.pk, D("150.00"), "100003", f"posted as operation #{t5.pk}"),
        ("T10", False, False, None, None, "", "not posted: account 999999 names no subscriber"),
    ]
    operations = Operation.objects.count()
    second = run(ledger.registry, post_missing=True)
    assert Operation.objects.count() == operations
    assert (second.matched_count, second.missing_in_billing_count, second.posted_count) == (
        2, 1, 0)
    assert second.lines.get(txn_id="T5").category == "matched"
    assert ledger_mismatches() == []


def test_a_clean_registry_matches_after_posting(make_subscriber):
    rows = [("T1", "100001", "500.00", "09:00:00"), ("T5", "100003", "150.00", "12:00:00"),
            ("T4", "100001", "100.00", "12:29:00"), ("T9", "100001", "40.00", "13:00:00"),
            ("T2", "100002", "300.00", "10:00:00")]
    ledger = full_ledger(make_subscriber, rows=rows)
    first = run(ledger.registry, post_missing=True)
    assert (first.posted_count, first.unresolved_count, first.differs) == (1, 0, False)
    second = run(ledger.registry)
    assert counts(second) == {
        "registry_count": 5, "registry_amount": D("1090.00"), "registry_fee": D("10.90"),
        "billing_count": 5, "billing_amount": D("1090.00"),
        "matched_count": 5, "missing_in_billing_count": 0, "missing_in_registry_count": 0,
        "mismatched_count": 0, "reversed_count": 0, "posted_count": 0,
        "posted_amount": D("0.00"), "unresolved_count": 0,
    }


def test_the_stored_report_can_post_its_missing_payments(make_subscriber):
    ledger = full_ledger(make_subscriber)
    report = run(ledger.registry)
    again = reconciliation_post_missing(reconciliation=report, account_kind="contract",
                                        actor="test2")
    assert again.pk != report.pk
    assert (again.post_missing, again.posted_count, again.posted_amount) == (
        True, 1, D("150.00"))
    assert (again.file_sha256, again.date_from, again.actor) == (
        report.file_sha256, report.date_from, "test2")
    assert lines(again)[3][:4] == ("missing_in_billing", True, 5, "T5")
    # the old report is unchanged history
    assert report.lines.get(txn_id="T5").operation_id is None
    assert Operation.objects.filter(external_id="T5").count() == 1


def test_a_payment_posted_meanwhile_counts_as_agreeing(make_subscriber, monkeypatch):
    """Another run (or the terminal's late retry) posts T5 between the look-up and the
    posting: the posting finds it and posts nothing."""
    from asr_billing.finance import reconcile
    from asr_billing.finance.services import payment_register

    ledger = full_ledger(make_subscriber)
    original = reconcile.payments_by_txn

    def stale(**kwargs):
        found = original(**kwargs)
        payment_register(subscriber=ledger.c, amount=D("150.00"), actor="late",
                         operator=ledger.operator, external_id="T5", op_date=at(12))
        return found

    monkeypatch.setattr(reconcile, "payments_by_txn", stale)
    report = run(ledger.registry, post_missing=True)
    t5 = Operation.objects.get(external_id="T5")
    assert report.lines.filter(txn_id="T5").values_list(
        "resolved", "posted", "operation_id", "message").get() == (
        True, False, t5.pk, f"posted meanwhile as operation #{t5.pk}")
    assert report.posted_count == 0


def test_a_registry_spanning_two_days_compares_both(make_subscriber):
    full_ledger(make_subscriber, rows=[])
    data = sber_registry([("T1", "100001", "500.00", "09:00:00")]).replace(
        b"=1;", b"8623;1;1;T7;70.00;0.70;16/03/2024;00:00:00;CLIENTNO:100001\r\n=2;"
    ).replace(b";500.00;5.00\r\n", b";570.00;5.70\r\n")
    report = run(data)
    assert (report.date_from, report.date_to) == (date(2024, 3, 15), date(2024, 3, 16))
    assert sorted(report.lines.values_list("category", "txn_id")) == [
        ("matched", "T1"), ("matched", "T7"), ("missing_in_registry", "T2"),
        ("missing_in_registry", "T4"), ("missing_in_registry", "T9"),
    ]


def test_a_payment_in_the_registry_of_the_day_before_is_not_missing(make_subscriber):
    """T4 was paid at the bank before midnight and registered by the billing after it:
    the bank lists it on the 14th, the billing dates it on the 15th."""
    ledger = full_ledger(make_subscriber)
    day_before = sber_registry([("T4", "100001", "100.00", "23:59:59")]).replace(
        b"15/03/2024;23:59:59", b"14/03/2024;23:59:59")
    assert run(day_before).matched_count == 1
    report = run(ledger.registry)
    assert report.missing_in_registry_count == 0
    assert not report.lines.filter(txn_id="T4").exists()


def test_an_empty_day_needs_its_date(make_subscriber):
    full_ledger(make_subscriber, rows=[])
    data = b"=0;0.00;0.00\n"
    before = db_state()
    with pytest.raises(InvalidInput) as caught:
        run(data)
    assert caught.value.message == (
        "The registry lists no payments, so its date is unknown: give the date")
    assert db_state() == before
    report = run(data, day=date(2024, 3, 15))
    assert (report.registry_count, report.missing_in_registry_count, report.billing_amount) == (
        0, 4, D("940.00"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Line 1: the registry is empty"),
        (sber_registry([("T1", "100001", "1e3", "09:00:00")]).replace(b"=1;1000;", b"=1;1;"),
         "Line 2: amount '1e3' is not an amount greater than zero with at most 2 decimal "
         "places"),
        (sber_registry([("T5", "100003", "150.00", "09:00:00")]).replace(b"=1;150.00", b"=1;15"),
         "Line 3: the total line says 1 payments, 15.00, fee 1.50; the lines hold 1 payments, "
         "150.00, fee 1.50"),
        (sber_registry([("T5", "100003", "150.005", "09:00:00")]),
         "Line 2: amount '150.005' is not an amount greater than zero with at most 2 decimal "
         "places"),
        (sber_registry([("T5", "100003", "NaN", "09:00:00")]).replace(b"=1;NaN", b"=1;0"),
         "Line 2: amount 'NaN' is not an amount greater than zero with at most 2 decimal "
         "places"),
        (sber_registry([("T5", "100003", "150.00", "09:00:00")]).replace(b";CLIENTNO", b""),
         "Line 2: 8 fields; a payment line has 8 fields and then CLIENTNO:<account>"),
        (sber_registry([("T5", "100003", "150.00", "09:00:00")], header="Реестр X").replace(
            b"X", b"\x98"),
         "Line 1: byte 0x98 is not cp1251 text"),
    ],
)
def test_a_malformed_registry_changes_nothing(make_subscriber, data, message):
    full_ledger(make_subscriber)
    before = db_state()
    with pytest.raises(RegistryError) as caught:
        run(data, post_missing=True)
    assert caught.value.message == message
    assert db_state() == before
    assert Reconciliation.objects.count() == ReconciliationLine.objects.count() == 0


def test_an_unknown_operator_changes_nothing(make_subscriber):
    ledger = full_ledger(make_subscriber)
    before = db_state()
    source = RegistrySource(gateway="sberbank.x", operator_code="NOPE", account_kind="contract",
                            settings=RegistrySettings(format="sberbank"))
    with pytest.raises(NotFound) as caught:
        run(ledger.registry, source=source, post_missing=True)
    assert caught.value.message == "Unknown payment operator: NOPE"
    assert db_state() == before
    assert Reconciliation.objects.count() == 0


def test_a_disabled_operator_posts_nothing_and_says_why(make_subscriber):
    ledger = full_ledger(make_subscriber)
    ledger.operator.enabled = False
    ledger.operator.save()
    report = run(ledger.registry, post_missing=True)
    assert report.lines.get(txn_id="T5").message == (
        "not posted: Payment operator SBER_REG is disabled")
    assert report.posted_count == 0
    assert not Operation.objects.filter(external_id="T5").exists()


def test_accounts_by_login_ip_and_id(make_subscriber, make_login):
    ledger = full_ledger(make_subscriber, rows=[])
    make_login(ledger.a, "ivanov", ip="10.1.1.1")
    rows = [("T1", "ivanov", "500.00", "09:00:00"), ("T9", "10.1.1.1", "40.00", "13:00:00")]
    by_login = run(sber_registry(rows), source=RegistrySource(
        gateway="sberbank.reg", operator_code="SBER_REG", account_kind="login",
        settings=RegistrySettings(format="sberbank")))
    assert dict(by_login.lines.filter(line_no__isnull=False).values_list(
        "txn_id", "category")) == {"T1": "matched", "T9": "mismatched"}
    by_ip = run(sber_registry(rows), source=RegistrySource(
        gateway="sberbank.reg", operator_code="SBER_REG", account_kind="ip",
        settings=RegistrySettings(format="sberbank")))
    assert dict(by_ip.lines.filter(line_no__isnull=False).values_list(
        "txn_id", "category")) == {"T1": "mismatched", "T9": "matched"}
    by_id = run(sber_registry([("T1", str(ledger.a.pk), "500.00", "09:00:00")]),
                source=RegistrySource(gateway="sberbank.reg", operator_code="SBER_REG",
                                      account_kind="id",
                                      settings=RegistrySettings(format="sberbank")))
    assert by_id.lines.get(txn_id="T1").category == "matched"


def test_a_csv_registry(make_subscriber):
    full_ledger(make_subscriber, rows=[])
    settings = RegistrySettings(format="csv", skip_rows=1, txn_id_column=1, account_column=2,
                                amount_column=3, date_column=4, date_format="%Y-%m-%d %H:%M")
    source = RegistrySource(gateway="webhook.reg", operator_code="SBER_REG",
                            account_kind="contract", settings=settings)
    data = ("id;account;sum;date\nT1;100001;500,00;2024-03-15 09:00\n"
            "T2;100002;300.00;2024-03-15 10:00\nT9;100001;40;2024-03-15 13:00\n"
            "T4;100001;100.00;2024-03-15 12:30\n").encode("cp1251")
    report = run(data, source=source)
    assert (report.registry_format, report.matched_count, report.unresolved_count,
            report.registry_fee) == ("csv", 4, 0, None)
