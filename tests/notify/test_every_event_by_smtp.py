"""Issue 14's proof: a message for each event reaches a real SMTP server once, in the
subscriber's language (one Russian, one English subscriber), however often the
scheduler's steps run again."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.cabinet.models_helpdesk import MessageAuthor, Ticket, TicketMessage
from asr_billing.core.tasks import tasks_run_due
from asr_billing.finance.services import payment_register
from asr_billing.notify.broadcast import broadcast_create
from asr_billing.notify.defaults import templates_ensure
from asr_billing.notify.models import MessageTemplate, Preference
from asr_billing.notify.state_events import notify_tick
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Tariff
from tests.conftest import ACTOR
from tests.notify.test_delivery import smtp  # noqa: F401 - the SMTP server fixture

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")
DAY0 = datetime(2026, 3, 5, 12, 0, tzinfo=MSK)  # the first tick: notes, tells nobody
DAY1 = DAY0 + timedelta(days=1)
# The worker's clock, after every task's time (the message is written on today's clock).
LATER = datetime.now(MSK) + timedelta(days=2)


def test_each_event_once_in_each_language(smtp, make_subscriber, admin_user,  # noqa: F811
                                          django_capture_on_commit_callbacks):
    templates_ensure()
    MessageTemplate.objects.filter(channel="email").update(enabled=True)
    daily = Tariff.objects.create(name="Daily 10", fee=Decimal("10.00"), charge_method="daily")
    other = Tariff.objects.create(name="Домашний 200", fee=Decimal("750.00"))
    people = {"ru": make_subscriber(name="Иванов", email="ru@example.ru", tariff=daily),
              "en": make_subscriber(name="Smith", email="en@example.com", tariff=daily)}
    Preference.objects.create(subscriber=people["en"], language="en")
    with time_machine.travel(DAY0, tick=False):
        notify_tick(now=DAY0)
    for subscriber in people.values():
        with time_machine.travel(DAY1 - timedelta(hours=1), tick=False):
            payment_register(subscriber=subscriber, amount=Decimal("25.00"), actor=ACTOR)
            ticket = Ticket.objects.create(subscriber=subscriber, subject="Нет связи",
                                           text="?", created_at=DAY1, updated_at=DAY1)
            TicketMessage.objects.create(ticket=ticket, author=MessageAuthor.OPERATOR,
                                         operator=admin_user, text="Готово.",
                                         created_at=DAY1 - timedelta(hours=1))
        VoluntaryBlock.objects.create(subscriber=subscriber, start_date=date(2026, 3, 1),
                                      end_date=DAY1.date())
        Subscriber.objects.filter(pk=subscriber.pk).update(
            tariff_next=other, tariff_next_date=DAY1.date() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_create(text="{{ name }}: работы 7 марта.", subject="Работы", email=True,
                         feed=False, everyone=True, actor=ACTOR)
    for _again in range(2):
        notify_tick(now=DAY1)
        tasks_run_due(now=LATER)
    # Cut off: one tick notes it (on its own clock), the tasks deliver it.
    Subscriber.objects.filter(pk__in=[s.pk for s in people.values()]).update(negbal=True)
    for _again in range(2):
        notify_tick(now=DAY1)
        tasks_run_due(now=LATER)
    subjects: dict[str, list[str]] = {"ru@example.ru": [], "en@example.com": []}
    for to, message in smtp.inbox.messages:
        subjects[to[0]].append(str(message["Subject"]).strip())
    contract = {lang: s.contract_number for lang, s in people.items()}
    assert sorted(subjects["ru@example.ru"]) == sorted([
        "Платёж 25,00 ₽ зачислен",
        "Ответ по обращению №" + str(Ticket.objects.get(subscriber=people["ru"]).pk),
        f"Деньги на счёте {contract['ru']} заканчиваются",
        "Добровольная блокировка заканчивается",
        "С 07.03.2026 тариф «Домашний 200»",
        f"Интернет отключён: на счёте {contract['ru']} нет денег",
        "Работы",
    ])
    assert sorted(subjects["en@example.com"]) == sorted([
        "Payment of 25.00 RUB received",
        "Reply to ticket #" + str(Ticket.objects.get(subscriber=people["en"]).pk),
        f"Account {contract['en']}: the money runs out soon",
        "Your voluntary block ends",
        "Tariff Домашний 200 from 2026-03-07",
        f"Internet suspended: account {contract['en']} is out of money",
        "Работы",
    ])
