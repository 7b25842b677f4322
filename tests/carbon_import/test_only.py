"""``asr-billing import carbon --only KIND[,KIND…]``: only the named kinds are read and
written; an object whose reference is not here yet is skipped with that reason (not a
crash); a wrong kind is argparse's error naming the valid ones, exit 2, nothing written.
Against the live demo (tests/carbon_import/test_import.py's source and target)."""

from __future__ import annotations

import pytest

from tests.carbon_import.test_import import UNTOUCHED, _sql, counts, rows
from tests.test_cli import run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english")]

KINDS = ("groups, tariffs, services, nas, subscribers, attributes, logins, subscriptions, "
         "operations, accounts")


def test_a_wrong_kind_is_refused_with_the_valid_ones_and_nothing_written(source, target):
    before = rows(target, UNTOUCHED)
    for value in ("logins,payments", "", "subscriber"):
        out = target.imports(source.base, "--only", value)
        assert out.returncode == 2, (out.stdout, out.stderr)
        assert out.stdout == ""
        wrong = {"logins,payments": "'payments'", "": "''", "subscriber": "'subscriber'"}[value]
        assert (f"argument --only: unknown kind {wrong}; the kinds are: {KINDS}"
                in out.stderr), out.stderr
    assert rows(target, UNTOUCHED) == before
    assert _sql(target.home, target.db_url, "select count(*) from core_auditentry") == [(0,)]


def test_only_some_kinds_then_their_dependants_and_the_money(source, target):
    logins = _sql(source.home, source.db_url, "select count(*) from network_login")[0][0]
    subscribers = _sql(source.home, source.db_url,
                       "select count(*) from subscribers_subscriber")[0][0]

    # Logins before their subscribers: each one skipped with the reason, nothing written.
    first = target.imports(source.base, "--only", "logins")
    assert first.returncode == 1, (first.stdout, first.stderr)
    assert counts(first.stdout) == {"logins": [0, 0, 0, logins]}
    subscriber, login = _sql(source.home, source.db_url,
                             "select subscriber_id, id from network_login order by id limit 1")[0]
    assert f"  login {login}: its subscriber {subscriber} is not here" in first.stdout
    assert _sql(target.home, target.db_url, "select count(*) from network_login") == [(0,)]

    # Their dependencies (any case, spaces allowed), then the logins: all of them.
    second = target.imports(source.base, "--only", "Groups, tariffs,NAS,subscribers,services")
    assert second.returncode == 0, (second.stdout, second.stderr)
    table = counts(second.stdout)
    assert list(table) == ["groups", "tariffs", "services", "NAS", "subscribers"]
    assert table["subscribers"] == [subscribers, 0, 0, 0]
    third = target.imports(source.base, "--only", "logins")
    assert third.returncode == 0, (third.stdout, third.stderr)
    assert counts(third.stdout) == {"logins": [logins, 0, 0, 0]}

    # The money alone: the operations, then the accounts; every balance is its ledger's.
    money = target.imports(source.base, "--only", "operations,accounts")
    assert money.returncode == 0, (money.stdout, money.stderr)
    table = counts(money.stdout)
    assert set(table) == {"payment operators", "operations", "accounts", "promised payments",
                          "voluntary blocks"}
    assert table["accounts"][3] == table["operations"][3] == 0
    assert "Opening balance" not in money.stdout  # the whole history came over
    check = run("check", "--home", str(target.home))
    assert check.returncode == 0, check.stderr

    # The rest: everything is here, as a whole import makes it, and again changes nothing.
    rest = target.imports(source.base)
    assert rest.returncode == 0, (rest.stdout, rest.stderr)
    assert counts(rest.stdout)["logins"] == [0, 0, logins, 0]
    check = run("check", "--home", str(target.home))
    assert check.returncode == 0, check.stderr
    before = rows(target, UNTOUCHED)
    again = target.imports(source.base)
    assert again.returncode == 0, again.stderr
    assert all(c[0] == c[1] == c[3] == 0 for c in counts(again.stdout).values())
    assert rows(target, UNTOUCHED) == before


def test_operations_alone_leave_every_cut_off_flag_as_its_balance_says(source, target):
    """``--only operations`` moves balances through the history; without the accounts step
    the cut-off flags must still follow them (a debtor is not left online)."""
    out = target.imports(source.base, "--only", "groups,tariffs,services,nas,subscribers")
    assert out.returncode == 0, (out.stdout, out.stderr)
    money = target.imports(source.base, "--only", "operations")
    assert money.returncode == 0, (money.stdout, money.stderr)
    wrong, cut_off = target.shell(
        "from asr_billing.finance.models import Account\n"
        "from asr_billing.finance.state import is_negbal\n"
        "from asr_billing.core.money import ZERO\n"
        "accounts = Account.objects.select_related('subscriber__tariff')\n"
        "wrong = [a.pk for a in accounts if is_negbal(balance=a.balance, "
        "credit_limit=a.credit_limit, promised=a.promised_amount, threshold="
        "a.subscriber.tariff.disconnect_threshold if a.subscriber.tariff else ZERO) "
        "!= a.subscriber.negbal]\n"
        "print(len(wrong), accounts.filter(subscriber__negbal=True).count())\n").split()
    assert int(wrong) == 0
    assert int(cut_off) > 0  # the demo's debtors are cut off by their imported history


def test_a_page_the_database_refuses_at_once_is_written_object_by_object(source, target):
    """A page goes in with one bulk insert; a row the checks before it do not foresee and
    the database refuses (here: the subscriber has that attribute already, under another
    id) rolls the insert back, and the page is written again object by object: that row
    skipped with its reason, the rest written, each with its audit entry."""
    total = _sql(source.home, source.db_url, "select count(*) from subscribers_attributevalue")
    first, subscriber, attribute = _sql(
        source.home, source.db_url, "select id, subscriber_id, attribute_id "
        "from subscribers_attributevalue order by id limit 1")[0]
    assert total[0][0] > 2
    out = target.imports(source.base, "--only", "groups,tariffs,nas,subscribers")
    assert out.returncode == 0, (out.stdout, out.stderr)
    target.shell(
        "from asr_billing.subscribers.models import Attribute, AttributeValue\n"
        f"Attribute.objects.get_or_create(pk={int(attribute)}, defaults={{'name': 'Here', "
        f"'code': 'here_{attribute}'}})\n"
        f"AttributeValue.objects.create(pk=999999, subscriber_id={int(subscriber)}, "
        f"attribute_id={int(attribute)}, value='ours')\n"
        "print('ok')\n")
    audit = _sql(target.home, target.db_url, "select count(*) from core_auditentry")[0][0]

    done = target.imports(source.base, "--only", "attributes")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert (f"  attribute {first}: subscriber {subscriber} already has attribute {attribute} "
            "here") in done.stdout
    assert counts(done.stdout)["attributes"] == [total[0][0] - 1, 0, 0, 1]
    assert _sql(target.home, target.db_url,
                "select count(*) from subscribers_attributevalue") == [(total[0][0],)]
    assert _sql(target.home, target.db_url, "select value from subscribers_attributevalue "
                "where id = 999999") == [("ours",)]
    created = _sql(target.home, target.db_url, "select count(*) from core_auditentry")[0][0]
    kinds = counts(done.stdout).get("attribute kinds", [0])[0]
    assert created - audit == total[0][0] - 1 + kinds
