"""Cabinet counters and payments under concurrency, on a real PostgreSQL: the failed-login
counters count every failure from every worker; parallel reset requests send one code; a
bank confirmation credits once."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from asr_billing.cabinet.models import AuthThrottle, PasswordResetToken
from asr_billing.cabinet.payments import pending_payment_confirm, pending_payment_create
from asr_billing.cabinet.reset import (
    cabinet_password_reset_request,
    cabinet_password_reset_submit,
)
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
ATTACKER = "192.0.2.66"


@pytest.fixture
def limits_of_threads(config_edit):
    # Full after exactly THREADS failures: with lower limits, threads that start late are
    # refused before their guess and the counts would stop short (flaky).
    for key in ("login.max_failures", "login.ip_max_failures", "login.delay_after"):
        config_edit("cabinet", key, str(THREADS))


def counters() -> dict[tuple[str, str], int]:
    return {(scope, key): failures for scope, key, failures
            in AuthThrottle.objects.values_list("scope", "key", "failures")}


def test_failed_logins_from_20_workers_are_all_counted(world, limits_of_threads):
    """Each failure locks its three rows in one order: every one is counted on each, and
    no two deadlock. (The clock stands still: the 1 s delay below is not a race.)"""
    with time_machine.travel(timezone.now(), tick=False):
        _failed_logins_from_20_workers()


def _failed_logins_from_20_workers():
    def guess(i):
        return cabinet_login(login=LOGIN, password=f"guess{i}", source_ip=ATTACKER)

    results = run_together(THREADS, guess)
    assert [getattr(r, "code", r) for r in results] == ["wrong_login"] * THREADS
    assert counters() == {("login", LOGIN): THREADS, ("login_ip", f"{LOGIN} {ATTACKER}"): THREADS,
                          ("ip", ATTACKER): THREADS}
    with pytest.raises(AuthFailure) as locked:
        cabinet_login(login=LOGIN, password=PASSWORD, source_ip=ATTACKER)
    assert locked.value.code == "login_locked"
    assert locked.value.message == "Too many failed logins. Try again in 15 min."
    # The owner elsewhere waits only the name's first delay (1 s), not a lock.
    with pytest.raises(AuthFailure) as delayed:
        cabinet_login(login=LOGIN, password=PASSWORD, source_ip="192.0.2.10")
    assert delayed.value.message == "Too many failed logins. Try again in 1 s."


def test_one_name_from_20_addresses_and_20_names_from_one_address(world, limits_of_threads):
    run_together(THREADS, lambda i: cabinet_login(login=LOGIN, password="x",
                                                  source_ip=f"198.51.100.{i}"))
    run_together(THREADS, lambda i: cabinet_login(login=f"name{i}", password="x",
                                                  source_ip=ATTACKER))
    found = counters()
    assert found[("login", LOGIN)] == THREADS
    assert found[("ip", ATTACKER)] == THREADS
    assert [found[("ip", f"198.51.100.{i}")] for i in range(THREADS)] == [1] * THREADS
    assert [found[("login", f"name{i}")] for i in range(THREADS)] == [1] * THREADS


def test_parallel_reset_requests_send_one_code_and_count_each(world, config_edit):
    config_edit("cabinet", "reset.max_requests", str(THREADS))
    results = run_together(THREADS, lambda i: cabinet_password_reset_request(
        login=LOGIN, source_ip=f"198.51.100.{i}"))
    assert sorted(r.reason for r in results) == ["sent"] + ["too_soon"] * (THREADS - 1)
    assert PasswordResetToken.objects.count() == 1
    assert counters()[("reset_login", LOGIN)] == THREADS


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
