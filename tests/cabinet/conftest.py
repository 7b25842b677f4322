"""Fixtures for the cabinet: a subscriber world like the operator's notes name
(testlogin / testpsw at 10.20.30.41), a caller that builds /system_api/ URLs the way the
cabinet clients glue them (arg1 un-encoded), config edits and a database fingerprint."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine

from asr_billing.finance.models import PaymentOperator
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.services import subscriber_contacts_update
from asr_billing.tariffs.models import ChargeMethod, Service

ACTOR = "test"
LOGIN, PASSWORD, IP = "testlogin", "testpsw", "10.20.30.41"
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2024, 5, 10, 12, 0, tzinfo=MSK)


def url(method: str, arg1=None, *, model="users", encode=False, fmt="json", psw=None,
        **extra) -> str:
    """A cabinet URL as the JS/Kotlin clients build it: format, context, model, method1,
    arg1 glued in as raw JSON (``encode`` percent-encodes it, as Go's url.Values does)."""
    parts = []
    if fmt is not None:
        parts.append(f"format={fmt}")
    parts += ["context=web", f"model={model}", f"method1=web_cabinet.{method}"]
    if arg1 is not None:
        text = arg1 if isinstance(arg1, str) else json.dumps(arg1, ensure_ascii=False)
        parts.append("arg1=" + (quote(text, safe="") if encode else text))
    if psw is not None:
        parts.append(f"psw={psw}")
    parts += [f"{k}={v}" for k, v in extra.items()]
    return "/system_api/?" + "&".join(parts)


@pytest.fixture
def cab(client):
    """Call a cabinet function; returns the decoded JSON answer (status 200 asserted)."""

    def call(method: str, arg1=None, *, remote="127.0.0.1", status=200, **kwargs):
        response = client.get(url(method, arg1, **kwargs), REMOTE_ADDR=remote)
        assert response.status_code == status, response.content[:300]
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()

    return call


@pytest.fixture(autouse=True)
def english(config_edit, settings):
    """Our own texts are compared in English; Carbon's Russian ones are constants. The
    config sets the language of requests; LANGUAGE_CODE that of services a test calls
    directly (pending_payment_confirm...). An override would not do: each request's
    middleware deactivates the language when it ends."""
    config_edit("app", "language", "en")
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def acq(db):
    return PaymentOperator.objects.create(code="SBERBANK_ACQ", name="Sberbank acquiring")


@pytest.fixture
def world(db, make_subscriber, make_login, operator, acq):
    """A subscriber (tariff Home 100, 600.00 a month) with 390.67 paid, the notes' login
    testlogin / testpsw at 10.20.30.41, and three services."""
    subscriber = make_subscriber(email="ivanov@example.com", sms_phone="+79161234567",
                                 address="ул. Ленина, 1")
    subscriber_contacts_update(subscriber=subscriber, actor=ACTOR, apartment="12")
    payment_register(subscriber=subscriber, amount=Decimal("390.67"), actor=ACTOR,
                     operator=operator, external_id="p1")
    login = make_login(subscriber, LOGIN, PASSWORD, ip=IP)
    services = {
        "ip": Service.objects.create(name="Статический IP-адрес", fee=Decimal("150.00"),
                                     comments="Белый IP"),
        "tv": Service.objects.create(name="IPTV", fee=Decimal("10.00"),
                                     charge_method=ChargeMethod.DAILY,
                                     web_allow_disable=False),
        "hidden": Service.objects.create(name="Выезд мастера", fee=Decimal("500.00"),
                                         charge_method=ChargeMethod.ONCE, is_show_web=False),
    }
    subscriber.refresh_from_db()
    return {"subscriber": subscriber, "login": login, "services": services}


@pytest.fixture
def frozen():
    """The clock stopped at NOW."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def w(frozen, world):
    """The world, made and used at NOW."""
    return world


@pytest.fixture
def sid(w, cab):
    """A session id from web_cabinet.login at NOW."""
    return cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]


@pytest.fixture
def suid(cab, world):
    """A session id from web_cabinet.login."""
    return cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]


def db_state() -> dict:
    """Everything a cabinet call could change; compare before and after a refusal."""
    from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
    from asr_billing.cabinet.models import (
        AuthThrottle,
        CabinetSession,
        Notification,
        NotificationRead,
        PasswordResetToken,
        PendingPayment,
        Ticket,
        TicketMessage,
    )
    from asr_billing.core.models import AuditEntry
    from asr_billing.finance.models import Account, Operation
    from asr_billing.network.models import Login
    from asr_billing.subscribers.models import Subscriber, SubscriberService

    def rows(model, *fields):
        return list(model.objects.order_by("pk").values_list("pk", *fields))

    return {
        "operations": rows(Operation, "type", "amount", "balance_after"),
        "accounts": rows(Account, "balance", "credit_limit", "promised_amount"),
        "subscribers": rows(Subscriber, "tariff_id", "sms_phone", "email", "negbal",
                            "admin_blocked", "voluntary_blocked"),
        "logins": rows(Login, "password_enc", "enabled", "ip"),
        "services": rows(SubscriberService, "service_id", "enabled_on", "disabled_on"),
        "blocks": rows(VoluntaryBlock, "start_date", "end_date", "ended_at"),
        "promised": rows(PromisedPayment, "amount", "closed_at"),
        "sessions": rows(CabinetSession, "closed_at", "last_seen_at"),
        "throttle": rows(AuthThrottle, "scope", "key", "failures"),
        "reset": rows(PasswordResetToken, "used_at"),
        "pending": rows(PendingPayment, "status", "amount"),
        "tickets": rows(Ticket, "subject", "text", "status", "updated_at", "closed_at"),
        "ticket_messages": rows(TicketMessage, "ticket_id", "author", "text", "read_at"),
        "notifications": rows(Notification, "text", "starts_at", "ends_at"),
        "notification_reads": rows(NotificationRead, "notification_id", "subscriber_id"),
        "audit": AuditEntry.objects.count(),
    }
