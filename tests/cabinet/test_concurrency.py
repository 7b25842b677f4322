"""Cabinet counters and payments under concurrency, on a real PostgreSQL: the failed-login
counter counts every failure from every worker; a bank confirmation credits once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.cabinet.models import AuthThrottle, PasswordResetToken
from asr_billing.cabinet.payments import pending_payment_confirm, pending_payment_create
from asr_billing.cabinet.reset import cabinet_password_reset_submit
from asr_billing.cabinet.services import (
    AuthFailure,
    cabinet_login,
    cabinet_session_open,
    digest,
)
from asr_billing.finance.models import Account, Operation
from tests.conftest import requires_postgres
from tests.finance.test_concurrency import run_together

from .conftest import LOGIN, PASSWORD

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_failed_logins_from_20_workers_are_all_counted(world, config_edit):
    config_edit("cabinet", "login.ip_max_failures", "0")
    # Locked after exactly THREADS failures: with a lower limit, threads that start late
    # are refused as locked before their guess and the count stops short (flaky).
    config_edit("cabinet", "login.max_failures", str(THREADS))

    def guess(i):
        return cabinet_login(login=LOGIN, password=f"guess{i}", source_ip="127.0.0.1")

    results = run_together(THREADS, guess)
    assert all(isinstance(r, AuthFailure) for r in results)
    assert AuthThrottle.objects.get(scope="login", key=LOGIN).failures == THREADS
    with pytest.raises(AuthFailure) as locked:
        cabinet_login(login=LOGIN, password=PASSWORD, source_ip="127.0.0.1")
    assert locked.value.code == "login_locked"


def test_a_bank_confirmation_from_20_threads_credits_once(world):
    session = cabinet_session_open(login=world["login"], method="password",
                                   src_ip=None).session
    order = pending_payment_create(session=session, amount="100.00", operator="SBERBANK_ACQ")
    operations = Operation.objects.count()

    results = run_together(THREADS, lambda i: pending_payment_confirm(
        payment_id=order.pk, actor="gw", amount=Decimal("100.00")))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(r.created for r in results) == 1
    assert len({r.operation.pk for r in results}) == 1
    assert Operation.objects.count() == operations + 1
    assert Account.objects.get(pk=world["subscriber"].pk).balance == Decimal("490.67")


def test_one_reset_code_used_by_two_requests_at_once(world):
    from django.utils import timezone

    now = timezone.now()
    PasswordResetToken.objects.create(login=world["login"], token_hash=digest("CODE123456"),
                                      email="ivanov@example.com", created_at=now,
                                      expires_at=now + timezone.timedelta(hours=1))

    def submit(i):
        return cabinet_password_reset_submit(token="CODE123456", uid=world["login"].pk,
                                             password1=f"new{i}", password2=f"new{i}")

    results = run_together(10, submit)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, AuthFailure) for r in results if isinstance(r, Exception))
