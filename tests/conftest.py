"""Shared fixtures. The database is SQLite unless ASR_BILLING_TEST_DB_URL points to
PostgreSQL (see asr_billing/test_settings.py)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from asr_billing.finance.models import PaymentOperator
from asr_billing.network.services import login_create, nas_create
from asr_billing.subscribers.models import Group
from asr_billing.subscribers.services import subscriber_create
from asr_billing.tariffs.models import ChargeMethod, Tariff

ACTOR = "test"

# Property tests: no per-example deadline (a loaded 2-core machine is slow, not wrong).
# In CI the examples are derived from each test's name (derandomize), so a landing never
# depends on luck; run without CI=true to explore new random examples locally.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks and concurrent connections; "
    "run with ASR_BILLING_TEST_DB_URL=postgresql://... (CI does)",
)


@pytest.fixture
def group(db):
    return Group.objects.create(name="Test group")


@pytest.fixture
def tariff(db):
    return Tariff.objects.create(
        name="Home 100",
        fee=Decimal("600.00"),
        charge_method=ChargeMethod.MONTHLY,
        rate_in=100000,
        ceil_in=100000,
        rate_out=50000,
        ceil_out=50000,
    )


@pytest.fixture
def operator(db):
    return PaymentOperator.objects.create(code="SBERBANK_OSMP", name="Sberbank (OSMP)")


@pytest.fixture
def nas(db):
    return nas_create(name="NAS 1", ip="10.0.0.1", actor=ACTOR, radius_secret="s3cret")


@pytest.fixture
def make_subscriber(db, group, tariff):
    def make(name="Иванов Иван Иванович", **kwargs):
        kwargs.setdefault("group", group)
        kwargs.setdefault("tariff", tariff)
        return subscriber_create(name=name, actor=ACTOR, **kwargs)

    return make


@pytest.fixture
def subscriber(make_subscriber):
    return make_subscriber()


@pytest.fixture
def make_login(db, nas):
    def make(subscriber, login, password="secret1", **kwargs):  # noqa: S107
        kwargs.setdefault("nas", nas)
        return login_create(
            subscriber=subscriber, login=login, password=password, actor=ACTOR, **kwargs
        )

    return make


@pytest.fixture
def english():
    """Exact-text assertions on our own (translatable) messages are made in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


def db_state() -> dict:
    """What a refused request must leave exactly as it was: rows, balances, flags, counters.
    Compare ``db_state()`` before and after the call."""
    from asr_billing.core.models import AuditEntry, Counter
    from asr_billing.finance.models import Account, Operation
    from asr_billing.network.models import Login, Nas
    from asr_billing.subscribers.models import Subscriber

    return {
        "operations": list(
            Operation.objects.order_by("pk").values_list("pk", "type", "amount", "balance_after")
        ),
        "accounts": list(
            Account.objects.order_by("pk").values_list(
                "pk", "balance", "credit_limit", "promised_amount"
            )
        ),
        "subscribers": list(
            Subscriber.objects.order_by("pk").values_list(
                "pk", "contract_number", "name", "tariff_id", "negbal", "admin_blocked",
                "tariff_next_id", "tariff_next_date",
            )
        ),
        "logins": list(
            Login.objects.order_by("pk").values_list(
                "pk", "login", "password_enc", "enabled", "ip", "mac", "snat_ip", "nas_id"
            )
        ),
        "nas": list(Nas.objects.order_by("pk").values_list("pk", "name", "ip", "nas_type")),
        "audit": AuditEntry.objects.count(),
        "counters": list(Counter.objects.order_by("name").values_list("name", "value")),
    }


@pytest.fixture
def config_edit(settings):
    """Set cfg/config values for one test (restored afterwards), the way an operator edits
    the file of a running server: ``config_edit("app", "contract.prefix", "ACME")``;
    ``config_edit.write_raw(text)`` replaces the whole file."""
    import os

    from asr_billing.core import runtime
    from asr_billing.core.config import ConfigFile

    path = settings.ASR_HOME.config_file
    original = path.read_bytes()
    stat = os.stat(path)

    def bump() -> None:
        # The server notices edits by (mtime, size); make sure the stamp really moves
        # even when two edits land within the file system's clock resolution.
        now = max(os.stat(path).st_mtime_ns, stat.st_mtime_ns, bump.last) + 1_000_000_000
        os.utime(path, ns=(now, now))
        bump.last = now

    bump.last = stat.st_mtime_ns

    def edit(section: str, key: str, value: str) -> None:
        config = ConfigFile.load(path)
        config.set(section, key, value)
        config.save()
        bump()

    def write_raw(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        bump()

    edit.write_raw = write_raw
    yield edit
    path.write_bytes(original)
    bump()
    runtime.current()  # apply the original again (log level and all)


@pytest.fixture
def cfg(settings):
    """``cfg(section, key, value)`` edits the test home's cfg/config and has it re-read at
    once (no mtime bump: the runtime is dropped); undone afterwards."""
    from asr_billing.core import runtime
    from asr_billing.core.config import ConfigFile

    path = settings.ASR_HOME.config_file
    original = path.read_text(encoding="utf-8")

    def set_value(section: str, key: str, value: str) -> None:
        config = ConfigFile.load(path)
        config.set(section, key, value)
        config.save()
        runtime._runtime = None  # re-read now, whatever the file's mtime resolution

    yield set_value
    path.write_text(original, encoding="utf-8")
    runtime._runtime = None


@pytest.fixture
def home_config(config_edit):
    """The older name of config_edit."""
    return config_edit


def pytest_terminal_summary(terminalreporter):
    """Say where the cabinet's browser tests put their screenshots (tests/cabinet_web)."""
    import os
    from pathlib import Path

    folder = os.environ.get("ASR_SCREENSHOTS")
    if not folder:
        factory = getattr(terminalreporter.config, "_tmp_path_factory", None)
        if factory is None:
            return
        folder = str(factory.getbasetemp() / "cabinet-screenshots")
    if Path(folder).is_dir() and any(Path(folder).iterdir()):
        terminalreporter.write_line(f"cabinet browser screenshots: {folder}")
