"""Bursts of parallel guesses on a real PostgreSQL: each attempt is counted as a failure
under the counter rows' lock BEFORE its password is compared (and taken back when it was
right), so at most ``limit`` guesses are tried however many arrive together. Checking the
counters first and counting after the comparison let a burst of 20 through a limit of 5
with 10+ guesses."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from asr_billing.cabinet import services as cabinet_services
from asr_billing.cabinet.models import AuthThrottle
from asr_billing.cabinet.services import AuthFailure, cabinet_login, cabinet_password_check
from asr_billing.rest_v2 import legacy_views
from tests.conftest import requires_postgres
from tests.finance.test_concurrency import run_together

from .conftest import LOGIN, PASSWORD

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
ATTACKER, OWNER = "192.0.2.66", "192.0.2.10"


class Counted:
    """Wraps a password check and counts its calls (from any thread)."""

    def __init__(self, func):
        self.func, self.calls, self.lock = func, 0, threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
        return self.func(*args, **kwargs)


@pytest.fixture
def checks(monkeypatch):
    counted = Counted(cabinet_services.login_check_password)
    monkeypatch.setattr(cabinet_services, "login_check_password", counted)
    return counted


@pytest.fixture
def still():
    # The clock stands still: no refusal ends while the burst runs.
    with time_machine.travel(timezone.now(), tick=False):
        yield


def counters() -> dict[tuple[str, str], int]:
    return {(scope, key): failures for scope, key, failures
            in AuthThrottle.objects.values_list("scope", "key", "failures")}


def outcome(result) -> str:
    return result.code if isinstance(result, AuthFailure) else repr(result)


@pytest.mark.parametrize("via", ["direct", "cabinet server"])
def test_20_parallel_bad_logins_against_a_limit_of_5_try_exactly_5(world, checks, still, via):
    # cabinet['login.max_failures'] = 5 per (name, client address) by default.
    where = ({"source_ip": ATTACKER} if via == "direct"
             else {"source_ip": "127.0.0.1", "client_ip": ATTACKER})
    results = run_together(THREADS, lambda i: cabinet_login(
        login=LOGIN, password=f"guess{i}", **where))
    assert checks.calls == 5
    assert sorted(map(outcome, results)) == ["login_locked"] * 15 + ["wrong_login"] * 5
    assert counters() == {("login", LOGIN): 5, ("login_ip", f"{LOGIN} {ATTACKER}"): 5,
                          ("ip", ATTACKER): 5}
    # The owner, from another address, logs in at once.
    owner = ({"source_ip": OWNER} if via == "direct"
             else {"source_ip": "127.0.0.1", "client_ip": OWNER})
    assert cabinet_login(login=LOGIN, password=PASSWORD, **owner).session.src_ip == OWNER
    assert checks.calls == 6


def test_20_parallel_check_pass_guesses_try_exactly_5(world, checks, still):
    results = run_together(THREADS, lambda i: cabinet_password_check(
        login=world["login"], password=f"guess{i}", source_ip=ATTACKER))
    assert checks.calls == 5
    assert sorted(map(outcome, results)) == ["False"] * 5 + ["login_locked"] * 15
    assert cabinet_password_check(login=world["login"], password=PASSWORD,
                                  source_ip=OWNER) is True


def test_20_parallel_names_from_one_address_against_its_limit_of_5(world, checks, still,
                                                                   config_edit):
    config_edit("cabinet", "login.ip_max_failures", "5")
    results = run_together(THREADS, lambda i: cabinet_login(
        login=f"name{i}", password="123456", source_ip=ATTACKER))
    # Unknown names are not compared (no such login), but each is a counted guess.
    assert sorted(map(outcome, results)) == ["login_locked"] * 15 + ["wrong_login"] * 5
    assert counters()[("ip", ATTACKER)] == 5


def test_parallel_right_passwords_leave_no_failures(world, checks, still):
    # Counted in advance, taken back on success: good logins at once (each from its own
    # address) leave no counter behind. While in flight each counts on the name, so
    # fewer than cabinet['login.delay_after'] (10) of them are never refused.
    devices = 9
    results = run_together(devices, lambda i: cabinet_login(
        login=LOGIN, password=PASSWORD, source_ip=f"198.51.100.{i}"))
    assert [outcome(r) for r in results if isinstance(r, Exception)] == []
    assert checks.calls == devices
    assert counters() == {}


def test_the_old_rest_api_login_lets_5_of_20_parallel_guesses_through(
        world, still, config_edit, django_user_model, monkeypatch):
    # rest_v2.legacy: GET /admin/?username=…&password=…&api=Y, the operator login guard.
    config_edit("network", "api.legacy_rest", "yes")
    config_edit("network", "api.allowed_ips", "127.0.0.0/8 ::1")
    django_user_model.objects.create_user("clerk", password="Clerk-pw-1", is_staff=True)
    counted = Counted(legacy_views.authenticate)
    monkeypatch.setattr(legacy_views, "authenticate", counted)

    def guess(i):
        response = Client().get("/admin/", {"username": "clerk", "password": f"guess{i}",
                                            "api": "Y", "format": "json"},
                                REMOTE_ADDR="127.0.0.2")
        return response.status_code

    results = run_together(THREADS, guess)
    assert counted.calls == 5
    assert sorted(results) == [403] * 5 + [429] * 15
    right = Client().get("/admin/", {"username": "clerk", "password": "Clerk-pw-1",
                                     "api": "Y", "format": "json"}, REMOTE_ADDR="127.0.0.3")
    assert right.status_code == 200 and len(right.content) == 40
