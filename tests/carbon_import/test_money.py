"""The money of ``asr-billing import carbon``: the finance history with Carbon's ids,
balances, credit limits, promised payments, voluntary blocks and the cut-off state, against
the live demo (tests/carbon_import/test_import.py's source and target); a trimmed history
through a proxy in front of it that leaves some operations out."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

from tests.carbon_import.test_import import _sql, counts, rows, source_write
from tests.test_cli import run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english")]

MONEY = {
    "accounts": "select subscriber_id, balance, credit_limit, promised_amount "
                "from finance_account order by 1",
    "operations": "select o.id, o.account_id, o.type, o.amount, o.balance_after, o.external_id, "
                  "p.code, o.code1c, o.synced_1c, o.reverses_id, o.tariff_id, o.service_id, "
                  "o.period_start, o.period_end, o.description from finance_operation o "
                  "left join finance_paymentoperator p on p.id = o.pay_operator_id order by o.id",
    "state": "select id, negbal, voluntary_blocked from subscribers_subscriber order by id",
    "promised": "select subscriber_id, amount from billing_promisedpayment "
                "where closed_at is null order by 1",
}
STILL = {**MONEY, "audit": "select count(*) from core_auditentry",
         "blocks": "select count(*) from billing_voluntaryblock",
         "all promised": "select count(*) from billing_promisedpayment"}


def _blocks(side) -> list:
    today = dt.date.today().isoformat()  # the demo's and ours: one machine
    return _sql(side.home, side.db_url, "select subscriber_id, start_date, end_date from "  # noqa: S608
                "billing_voluntaryblock where ended_at is null and end_date >= "
                f"'{today}' order by 1")


def test_money_round_trip_then_nothing_and_an_old_payment_is_a_duplicate(source, target):
    first = target.imports(source.base)
    assert first.returncode == 0, (first.stdout, first.stderr)
    expected = rows(source, MONEY)
    assert rows(target, MONEY) == expected
    operations = len(expected["operations"])
    assert operations > 1000
    assert counts(first.stdout)["operations"] == [operations, 0, 0, 0]
    assert expected["promised"] and any(row[2] for row in expected["state"])  # some blocked
    assert _blocks(target) == _blocks(source) != []
    assert "Opening balance" not in first.stdout  # the demo's history is whole
    check = run("check", "--home", str(target.home))
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("OK: 260 accounts")

    before = rows(target, STILL)
    second = target.imports(source.base)
    assert second.returncode == 0, second.stderr
    table = counts(second.stdout)
    assert table["operations"] == [0, 0, operations, 0]
    assert table["accounts"] == [0, 0, 260, 0]
    assert rows(target, STILL) == before

    # A terminal retries a payment it made to Carbon: the same answer, nothing posted.
    pk, account, amount, external, code = _sql(
        source.home, source.db_url,
        "select o.id, o.account_id, o.amount, o.external_id, p.code from finance_operation o "
        "join finance_paymentoperator p on p.id = o.pay_operator_id where o.type = 2 and "
        "o.external_id <> '' order by o.id limit 1")[0]
    retried = target.shell(
        "from decimal import Decimal\n"
        "from asr_billing.finance.models import PaymentOperator\n"
        "from asr_billing.finance.services import payment_register\n"
        "from asr_billing.subscribers.models import Subscriber\n"
        f"r = payment_register(subscriber=Subscriber.objects.get(pk={account}), "
        f"amount=Decimal('{amount}'), actor='test', "
        f"operator=PaymentOperator.objects.get(code='{code}'), external_id='{external}')\n"
        "print(r.created, r.operation.pk)\n")
    assert retried == f"False {pk}"
    assert rows(target, STILL) == before

    # The ledger is append-only: an operation that differs at the source is a conflict.
    source_write(source, "update finance_operation set description = 'Изменено' "  # noqa: S608
                         f"where id = {int(pk)}")
    third = target.imports(source.base)
    assert third.returncode == 1, third.stderr
    assert (f"  operation {pk}: it is here already and differs (description); the ledger is "
            "not changed") in third.stdout
    assert counts(third.stdout)["operations"] == [0, 0, operations - 1, 1]
    assert rows(target, STILL) == before

    # 1C took an operation at the source since: the same mark here, the money untouched.
    taken = _sql(source.home, source.db_url, "select min(id) from finance_operation "  # noqa: S608
                 f"where code1c = '' and type = 2 and id <> {int(pk)}")[0][0]
    source_write(source, "update finance_operation set code1c = 'TEST_000001', synced_1c = "  # noqa: S608
                         f"{'true' if source.db_url else 1} where id = {int(taken)}")
    fourth = target.imports(source.base)
    assert counts(fourth.stdout)["operations"] == [0, 1, operations - 2, 1]
    assert _sql(target.home, target.db_url, "select code1c, synced_1c from finance_operation "  # noqa: S608
                f"where id = {int(taken)}") == [("TEST_000001", True if target.db_url else 1)]
    assert rows(target, MONEY)["accounts"] == before["accounts"]


class _Proxy(http.server.BaseHTTPRequestHandler):
    """Forwards to the source; FinanceOperations without the ids in ``drop``, and
    AdminAccounts with ``extra`` added to the balance of the accounts named in it."""

    upstream = ""
    drop: set = set()
    extra: dict = {}

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        form = dict(urllib.parse.parse_qsl(body.decode()))
        limit = int(form.get("limit", 0))
        if limit and "/FinanceOperations/" in self.path:  # pages stay full without them
            form["limit"] = str(limit + len(self.drop))
            body = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(  # noqa: S310 - the source on loopback
            self.upstream + self.path, data=body,
            headers={"Content-Type": self.headers["Content-Type"]}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            data = json.loads(answer.read())
        result = data.get("result")
        if isinstance(result, list) and "/FinanceOperations/" in self.path:
            data["result"] = [item for item in result if item["pk"] not in self.drop][:limit]
        if isinstance(result, list) and "/AdminAccounts/" in self.path:
            for item in result:
                if item["pk"] in self.extra and "balance" in item.get("fields", {}):
                    balance = Decimal(item["fields"]["balance"]) + self.extra[item["pk"]]
                    item["fields"]["balance"] = str(balance)
        out = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(source):
    handler = type("Proxy", (_Proxy,), {"upstream": source.base, "drop": set(), "extra": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.base = f"http://127.0.0.1:{server.server_port}"
    yield handler
    server.shutdown()


def test_a_trimmed_history_gets_one_opening_balance_per_account(source, target, proxy):
    # The earliest payment of three accounts, none of them reversed, is not in the source.
    dropped = _sql(source.home, source.db_url,
                   "select min(id) from finance_operation where type = 2 and id not in "
                   "(select reverses_id from finance_operation where reverses_id is not null) "
                   "group by account_id order by account_id limit 3")
    proxy.drop = {row[0] for row in dropped}
    ids = ",".join(str(pk) for pk in sorted(proxy.drop))
    trimmed = dict(_sql(source.home, source.db_url,
                        f"select account_id, amount from finance_operation where id in ({ids})"  # noqa: S608
                        ))
    top = _sql(source.home, source.db_url, "select max(id) from finance_operation")[0][0]
    dry = target.imports(proxy.base, "--dry-run")  # says what it would post, writes nothing
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    assert "Opening balances posted for 3 accounts" in dry.stdout
    assert dry.stdout.rstrip().endswith("Dry run: nothing was written.")
    assert _sql(target.home, target.db_url, "select count(*) from finance_operation") == [(0,)]
    first = target.imports(proxy.base)
    assert first.returncode == 0, (first.stdout, first.stderr)
    total = sum(trimmed.values(), Decimal("0.00"))
    assert (f"Opening balances posted for 3 accounts (their history at the source does not "
            f"sum to their balance), total {total}.") in first.stdout
    openings = _sql(target.home, target.db_url,
                    "select id, account_id, amount, balance_after, type from finance_operation "
                    "where description = 'Opening balance from Carbon import' order by 2")
    assert [(a, Decimal(m), Decimal(b), t) for _pk, a, m, b, t in openings] == [
        (account, Decimal(amount), Decimal(amount), 20) for account, amount in
        sorted(trimmed.items())]
    assert all(pk > top for pk, *_rest in openings)  # from our sequence, past Carbon's ids
    dated = _sql(target.home, target.db_url,
                 "select count(*) from finance_operation o where description = 'Opening "
                 "balance from Carbon import' and op_date >= (select min(op_date) from "
                 "finance_operation e where e.account_id = o.account_id and e.id <> o.id)")
    assert dated == [(0,)]  # before the account's imported history
    assert rows(target, MONEY)["accounts"] == rows(source, MONEY)["accounts"]
    assert run("check", "--home", str(target.home)).returncode == 0

    before = rows(target, STILL)
    second = target.imports(proxy.base)
    assert second.returncode == 0, second.stderr
    assert "Opening balance" not in second.stdout
    assert rows(target, STILL) == before

    # The source's balance moves without an operation we can read: one adjustment, said.
    account = min(trimmed)
    proxy.extra = {account: Decimal("10.00")}
    third = target.imports(proxy.base)
    assert third.returncode == 0, third.stderr
    assert ("1 account already had its opening balance and differed again from the "
            "source's balance") in third.stdout
    assert f"  {account}: +10.00" in third.stdout
    adjusted = _sql(target.home, target.db_url,
                    "select account_id, amount from finance_operation where description = "
                    "'Balance adjustment from Carbon import'")
    assert [(a, Decimal(m)) for a, m in adjusted] == [(account, Decimal("10.00"))]
    assert run("check", "--home", str(target.home)).returncode == 0
    fourth = target.imports(proxy.base)
    assert "Balance adjustment" not in fourth.stdout and "adjustment" not in fourth.stdout


@pytest.mark.django_db
def test_a_row_whose_exactly_once_key_is_held_here_is_skipped_with_its_holder():
    from django.db import transaction

    from asr_billing.carbon_import.ledger import operations_page
    from asr_billing.carbon_import.money import operation_fields
    from asr_billing.carbon_import.report import Report
    from asr_billing.finance.models import Account, Operation, PaymentOperator
    from asr_billing.finance.services import payment_register
    from asr_billing.subscribers.models import Group
    from asr_billing.subscribers.services import subscriber_create

    group = Group.objects.first() or Group.objects.create(name="Root")
    subscriber = subscriber_create(name="Held Payment", group=group, actor="test")
    PaymentOperator.objects.create(code="OSMP", name="OSMP")
    held = payment_register(subscriber=subscriber, amount=Decimal("100.00"), actor="test",
                            operator="OSMP", external_id="77").operation
    fields = {"abonent_id": subscriber.pk, "op_type_id": 2, "op_date": "2025-01-01 10:00:00",
              "op_summa": "100.00", "operator_name": "OSMP", "operator_pay_id_str": "77",
              "code1c": ""}
    report = Report()
    with transaction.atomic():
        operations_page(rows=[(held.pk + 100, operation_fields(fields)),
                              (held.pk + 101, operation_fields({**fields, "op_summa": "5.00",
                                                                "operator_pay_id_str": "78"}))],
                        report=report)
    assert report.skipped == [("operations", held.pk + 100,
                               f"its payment OSMP 77 is operation {held.pk} here")]
    assert list(Operation.objects.order_by("pk").values_list("pk", "amount", "balance_after")) == [
        (held.pk, Decimal("100.00"), Decimal("100.00")),
        (held.pk + 101, Decimal("5.00"), Decimal("105.00"))]
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("105.00")
    # An id an earlier run's opening balance took, used since by Carbon: said so.
    from asr_billing.carbon_import.money import OPENING_ACTOR

    Operation.objects.create(pk=held.pk + 102, account_id=subscriber.pk, type=20,
                             amount=Decimal("1.00"), balance_after=Decimal("106.00"),
                             actor=OPENING_ACTOR)
    report = Report()
    with transaction.atomic():
        operations_page(rows=[(held.pk + 102, operation_fields(fields))], report=report)
    assert report.skipped == [("operations", held.pk + 102, (
        f"its id is held here by the opening balance of subscriber {subscriber.pk} that an "
        "earlier import posted (Carbon took new operations after it: docs/migration.md, "
        "The money)"))]
