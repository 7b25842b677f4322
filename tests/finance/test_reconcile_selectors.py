"""The set-based account look-up of a reconciliation finds exactly the subscriber a
gateway's payer_find finds, one account at a time, for every kind of account."""

from __future__ import annotations

import pytest

from asr_billing.finance.reconcile_selectors import ACCOUNT_KINDS, payers_by_account
from asr_billing.subscribers.selectors import PAYER_KEYS, payer_find

pytestmark = pytest.mark.django_db


def test_the_kinds_are_the_gateways_kinds():
    assert ACCOUNT_KINDS == PAYER_KEYS


def test_set_based_look_up_agrees_with_payer_find(make_subscriber, make_login):
    a = make_subscriber(contract_number="100001")
    b = make_subscriber(contract_number="100002")
    make_login(a, "ivanov", ip="10.1.1.1")
    make_login(b, "petrov", ip="10.1.1.2", enabled=False)
    make_login(b, "petrov2", ip="2001:db8::5")
    accounts = [
        "100001", "100002", " 100001 ", "999", "ivanov", "petrov", "nobody", "10.1.1.1",
        "10.1.1.2", "::ffff:10.1.1.1", "2001:db8::5", "2001:DB8:0::5", "10.1.1.300",
        str(a.pk), str(b.pk), "0", "1" * 30, "١٢", "",
    ]
    for kind in ACCOUNT_KINDS:
        found = payers_by_account(kind=kind, accounts=accounts)
        expected = {}
        for account in accounts:
            payer = payer_find(by=kind, value=account)
            if payer is not None:
                expected[account.strip()] = payer.pk
        assert {k: v.pk for k, v in found.items()} == expected, kind
    assert {k: v.pk for k, v in payers_by_account(kind="ip", accounts=accounts).items()} == {
        "10.1.1.1": a.pk, "::ffff:10.1.1.1": a.pk, "2001:db8::5": b.pk, "2001:DB8:0::5": b.pk}
