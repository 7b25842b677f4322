"""Cut off for lack of money, and money that runs out soon: found by state on the
scheduler's tick, told once per cut-off and once per predicted day, never the backlog."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from asr_billing.core.models import Task
from asr_billing.finance.services import charge_post, payment_register
from asr_billing.notify.defaults import templates_ensure
from asr_billing.notify.models import CutOffNotice, MessageTemplate
from asr_billing.notify.state_events import cut_off_notify, daily_notify
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Tariff
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")


@pytest.fixture
def templates(db):
    templates_ensure()
    MessageTemplate.objects.update(enabled=True)


def feed(event: str) -> list[str]:
    return [t.payload["body"] for t in Task.objects.filter(name="notify.feed",
                                                           payload__event=event).order_by("id")]


def set_negbal(subscriber, value: bool) -> None:
    Subscriber.objects.filter(pk=subscriber.pk).update(negbal=value)


def test_a_cut_off_is_told_once_and_again_after_it_ends(templates, make_subscriber):
    backlog = make_subscriber(name="Давно отключён")
    set_negbal(backlog, True)
    assert cut_off_notify() == 0  # the first tick notes the backlog, tells nobody
    assert CutOffNotice.objects.filter(subscriber=backlog).exists()

    subscriber = make_subscriber()
    charge = Tariff.objects.create(name="Test daily", fee=Decimal("12.40"),
                                   charge_method="daily")
    Subscriber.objects.filter(pk=subscriber.pk).update(tariff=charge)
    charge_post(subscriber=subscriber, amount=Decimal("12.40"), actor=ACTOR, tariff=charge,
                period_start=date(2026, 3, 5), period_end=date(2026, 3, 5))
    set_negbal(subscriber, True)
    assert cut_off_notify() == 1  # the feed (no e-mail address)
    assert feed("cut_off") == ["Доступ приостановлен: баланс -12,40 ₽. Внесите не меньше "
                               "12,40 ₽."]
    assert cut_off_notify() == 0  # still cut off: told already
    set_negbal(subscriber, False)  # paid
    cut_off_notify()
    assert not CutOffNotice.objects.filter(subscriber=subscriber).exists()
    set_negbal(subscriber, True)  # cut off again: a new message
    assert cut_off_notify() == 1
    assert len(feed("cut_off")) == 2
    assert feed("cut_off") == [feed("cut_off")[0]] * 2


def test_money_that_runs_out_is_told_once_a_day_from_the_time(templates, make_subscriber,
                                                              config_edit):
    config_edit("notify", "runs_out.days", "3")
    config_edit("notify", "daily.time", "12:00")
    daily = Tariff.objects.create(name="Daily 10", fee=Decimal("10.00"), charge_method="daily")
    soon = make_subscriber(name="Скоро", tariff=daily)
    later = make_subscriber(name="Нескоро", tariff=daily)
    payment_register(subscriber=soon, amount=Decimal("25.00"), actor=ACTOR)  # 2 days
    payment_register(subscriber=later, amount=Decimal("100.00"), actor=ACTOR)  # 10 days
    assert daily_notify(now=datetime(2026, 3, 5, 12, 30, tzinfo=MSK)) == 0  # first day
    assert daily_notify(now=datetime(2026, 3, 6, 11, 0, tzinfo=MSK)) == 0  # before 12:00
    assert daily_notify(now=datetime(2026, 3, 6, 12, 0, tzinfo=MSK)) == 1
    assert feed("runs_out") == ["Денег на счёте хватит до 08.03.2026 включительно. "
                                "Пополните счёт заранее."]
    assert daily_notify(now=datetime(2026, 3, 6, 18, 0, tzinfo=MSK)) == 0  # once a day
    # The next day, charged for it, the money still lasts until the 8th: not told again.
    charge_post(subscriber=soon, amount=Decimal("10.00"), actor=ACTOR, tariff=daily,
                period_start=date(2026, 3, 7), period_end=date(2026, 3, 7))
    daily_notify(now=datetime(2026, 3, 7, 12, 0, tzinfo=MSK))
    assert len(feed("runs_out")) == 1


def test_runs_out_off_with_zero_days(templates, make_subscriber, config_edit):
    config_edit("notify", "runs_out.days", "0")
    assert daily_notify(now=datetime(2026, 3, 6, 12, 0, tzinfo=MSK)) == 0
    assert not Task.objects.exists()


def test_a_block_that_ends_and_a_tariff_that_changes_tomorrow(templates, make_subscriber,
                                                             tariff):
    from asr_billing.billing.models import VoluntaryBlock

    blocked = make_subscriber(name="На блокировке")
    moving = make_subscriber(name="Меняет тариф")
    new = Tariff.objects.create(name="Домашний 200", fee=Decimal("750.00"))
    VoluntaryBlock.objects.create(subscriber=blocked, start_date=date(2026, 3, 1),
                                  end_date=date(2026, 3, 6))
    VoluntaryBlock.objects.create(subscriber=blocked, start_date=date(2026, 2, 1),
                                  end_date=date(2026, 3, 6), ended_at=datetime(2026, 2, 3,
                                                                               tzinfo=MSK))
    Subscriber.objects.filter(pk=moving.pk).update(tariff_next=new,
                                                   tariff_next_date=date(2026, 3, 7))
    assert daily_notify(now=datetime(2026, 3, 5, 12, 0, tzinfo=MSK)) == 0  # the first day
    assert daily_notify(now=datetime(2026, 3, 6, 12, 0, tzinfo=MSK)) == 2
    assert feed("vblock_ends") == ["Добровольная блокировка заканчивается 06.03.2026."]
    assert feed("tariff_change") == ["С 07.03.2026 действует тариф «Домашний 200» "
                                     "(750,00 ₽)."]


def test_a_reply_in_a_ticket_is_emailed(templates, make_subscriber, admin_user):
    from django.utils import timezone

    from asr_billing.cabinet.models_helpdesk import MessageAuthor, Ticket, TicketMessage
    from asr_billing.notify.events import helpdesk_notify

    subscriber = make_subscriber(email="ivanov@example.ru")
    now = timezone.now()
    ticket = Ticket.objects.create(subscriber=subscriber, subject="Не работает интернет",
                                   text="С утра нет связи", created_at=now, updated_at=now)
    assert helpdesk_notify() == 0  # the first tick
    TicketMessage.objects.create(ticket=ticket, author=MessageAuthor.SUBSCRIBER,
                                 text="Жду", created_at=now)
    TicketMessage.objects.create(ticket=ticket, author=MessageAuthor.OPERATOR,
                                 operator=admin_user, text="Перезагрузите роутер.",
                                 created_at=now)
    assert helpdesk_notify(now=now + timedelta(minutes=2)) == 1  # the operator's reply, by e-mail
    email = Task.objects.get(name="notify.email").payload
    assert email["subject"] == f"Ответ по обращению №{ticket.pk}"
    assert "По обращению «Не работает интернет» ответила поддержка:\n\nПерезагрузите " \
           "роутер." in email["body"]
    assert helpdesk_notify(now=now + timedelta(minutes=2)) == 0

    # A reply whose transaction committed after a later one was read (its id is below
    # it): the same reader as payments reads it on the next tick.
    def reply(text):
        return TicketMessage.objects.create(ticket=ticket, author=MessageAuthor.OPERATOR,
                                            operator=admin_user, text=text, created_at=now)

    gap = reply("Проверьте кабель.").pk
    TicketMessage.objects.filter(pk=gap).update(id=gap + 100)  # its id for the late one
    assert helpdesk_notify(now=now + timedelta(minutes=3)) == 1
    late = reply("Ещё раз.")
    TicketMessage.objects.filter(pk=late.pk).update(id=gap)
    assert helpdesk_notify(now=now + timedelta(hours=1)) == 1
    assert "поддержка:\n\nЕщё раз.\n" in \
        Task.objects.get(key=f"notify:helpdesk_reply:{gap}:email").payload["body"]


def test_the_cut_off_step_reads_the_cut_off_index_not_every_subscriber(templates,
                                                                       make_subscriber):
    """Every tick's questions of the cut-off step (who is cut off and not noted, whose
    note has ended) go through the partial index subscriber_cut_off (negbal only) — no
    scan of the whole subscriber table. Checked on the database's own plan of the
    statements the step ran (PostgreSQL: with sequential scans priced out, as at a
    million subscribers; the figures are in docs/notifications.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = [make_subscriber(name=f"Абонент {n}") for n in range(3)]
    cut_off_notify()  # the first tick
    set_negbal(people[0], True)
    with CaptureQueriesContext(connection) as ran:
        cut_off_notify()
    asked = [q["sql"] for q in ran.captured_queries
             if q["sql"].startswith("SELECT") and '"negbal" AND' in q["sql"]]
    assert len(asked) == 2  # whose note has ended; who is cut off and not noted
    plans = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in asked:
            cursor.execute(("EXPLAIN " if connection.vendor == "postgresql"
                            else "EXPLAIN QUERY PLAN ") + sql)
            plans.append([str(row[-1]).strip() for row in cursor.fetchall()])
    for plan in plans:  # no line reads the subscriber table whole
        assert not [line for line in plan if line.startswith("Seq Scan on subscribers")
                    or re.fullmatch(r"SCAN (subscribers_subscriber|U0)", line)], plan
    # Who is cut off: the partial index (on PostgreSQL both questions: a merge anti-join
    # of it with the notes; SQLite looks each note's subscriber up by its id).
    assert any("subscriber_cut_off" in line for line in plans[1]), plans[1]
    if connection.vendor == "postgresql":
        assert any("subscriber_cut_off" in line for line in plans[0]), plans[0]
