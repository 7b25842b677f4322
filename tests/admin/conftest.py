"""Fixtures for the admin tests: a small ISP with a subscriber in every state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.finance.models import Operation
from asr_billing.finance.services import charge_post, payment_register
from asr_billing.network.models import Login, OnlineSession
from asr_billing.subscribers.models import Attribute, AttributeValue, Subscriber
from asr_billing.subscribers.services import subscriber_block
from asr_billing.tariffs.models import Service

ACTOR = "test"


def local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A wall-clock time of DAY in the billing's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def en(config_edit):
    """The admin in English."""
    config_edit("app", "language", "en")


@dataclass
class Isp:
    paid_online: Subscriber  # money on the account and an open session
    negbal: Subscriber  # charged below zero: cut off by balance
    blocked: Subscriber  # blocked by the administrator
    voluntary: Subscriber  # on a voluntary block
    offline: Subscriber  # paid, no session
    login: Login  # paid_online's login "testlogin" at 10.20.30.41
    payment: Operation
    service: Service


def open_session(login, nas, session_id="s1"):
    now = timezone.now()
    return OnlineSession.objects.create(
        login=login, nas=nas, acct_session_id=session_id, ip=login.ip,
        started_at=now, updated_at=now,
    )


@pytest.fixture
def isp(db, make_subscriber, make_login, nas, operator, tariff):
    paid = make_subscriber("Иванов Иван Иванович", contract_number="BILL0000003")
    login = make_login(paid, "testlogin", password="testpsw", ip="10.20.30.41",
                       mac="00:1a:2b:3c:4d:5e")
    payment = payment_register(subscriber=paid, amount=Decimal("1000.00"), operator=operator,
                               external_id="ext-1", actor=ACTOR).operation
    open_session(login, nas)

    negbal = make_subscriber("Петров Пётр Петрович")
    make_login(negbal, "petrov", ip="10.20.30.42")
    charge_post(subscriber=negbal, amount=Decimal("600.00"), actor=ACTOR, tariff=tariff,
                period_start=date(2025, 1, 1), period_end=date(2025, 1, 31))

    blocked = make_subscriber("Сидоров Сидор")
    payment_register(subscriber=blocked, amount=Decimal("50.00"), actor=ACTOR)
    blocked = subscriber_block(subscriber=blocked, actor=ACTOR, reason="fraud")

    voluntary = make_subscriber("Кузнецова Анна")
    Subscriber.objects.filter(pk=voluntary.pk).update(voluntary_blocked=True)
    today = timezone.localdate()
    VoluntaryBlock.objects.create(subscriber=voluntary, start_date=today,
                                  end_date=today + timedelta(days=10))

    offline = make_subscriber("ООО Ромашка", is_company=True, code1c="1C-000123")
    payment_register(subscriber=offline, amount=Decimal("10.00"), actor=ACTOR)
    make_login(offline, "romashka", ip="10.20.31.5", enabled=False)

    now = timezone.now()
    PromisedPayment.objects.create(subscriber=negbal, amount=Decimal("100.00"), created_at=now,
                                   expires_at=now + timedelta(days=3), actor=ACTOR)
    inn = Attribute.objects.get_or_create(id=4, defaults={"name": "INN", "code": "inn"})[0]
    AttributeValue.objects.create(subscriber=offline, attribute=inn, value="7701234567")
    service = Service.objects.create(name="Static IP", fee=Decimal("100.00"))
    for obj in (paid, negbal, blocked, voluntary, offline):
        obj.refresh_from_db()
    return Isp(paid, negbal, blocked, voluntary, offline, login, payment, service)


@pytest.fixture
def isp_ids(isp):
    return {name: getattr(isp, name).pk
            for name in ("paid_online", "negbal", "blocked", "voluntary", "offline")}
