"""The story demo's helpdesk and notifications, so that the cabinet examples of
docs/system-api.md answer something: testlogin (contract BILL0000003) has a ticket support
has answered (not read yet) and a closed one; a notification goes to everyone and one to
the Центральный район group, testlogin's. Written through the cabinet's services, times
relative to ``now``."""

from __future__ import annotations

import datetime as dt

from asr_billing.cabinet.helpdesk import (
    ticket_answer,
    ticket_comment,
    ticket_create,
    ticket_mark_read,
)
from asr_billing.cabinet.notifications import notification_create
from asr_billing.demo import story
from asr_billing.demo.common import ACTOR
from asr_billing.subscribers.models import Group, Subscriber


def create_helpdesk(*, now: dt.datetime) -> None:
    subscriber = Subscriber.objects.get(pk=story.TEST_SUBSCRIBER_ID)
    day = dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)

    closed = ticket_create(
        subscriber=subscriber, subject="Смена тарифа", now=now - 40 * day,
        text="Хочу перейти на тариф побыстрее. Что для этого нужно?")
    ticket_answer(
        ticket=closed, actor=ACTOR, close=True, now=now - 40 * day + 3 * hour,
        text="Переход доступен в личном кабинете, с первого числа следующего месяца.")
    ticket_mark_read(subscriber=subscriber, ticket_id=closed.pk, now=now - 39 * day)

    answered = ticket_create(
        subscriber=subscriber, subject="Низкая скорость вечером", now=now - 2 * day,
        text="С 20:00 до 23:00 скорость падает до 5 Мбит/с, днём всё нормально.")
    ticket_answer(
        ticket=answered, actor=ACTOR, now=now - 2 * day + 2 * hour,
        text="Проверили порт коммутатора: ошибок нет. Пришлите, пожалуйста, замер speedtest "
             "по кабелю, без Wi-Fi.")
    ticket_comment(subscriber=subscriber, ticket_id=answered.pk, now=now - day,
                   text="По кабелю 95 Мбит/с, по Wi-Fi 5. Видимо, дело в роутере.")
    ticket_answer(
        ticket=answered, actor=ACTOR, now=now - day + hour,
        text="Похоже на загруженный канал Wi-Fi 2,4 ГГц. Переключите роутер на 5 ГГц или "
             "смените канал; если не поможет — оформим выезд мастера.")

    notification_create(
        everyone=True, kind="warning", actor=ACTOR, now=now - day, starts_at=now - day,
        text="Плановые работы на магистральном канале в ночь на субботу с 02:00 до 04:00: "
             "возможны перерывы связи до 15 минут.")
    notification_create(
        group=Group.objects.get(pk=story.DISTRICT_GROUP["center"]), actor=ACTOR,
        now=now - hour, starts_at=now - hour,
        text="В Центральном районе завершена модернизация сети: скорость по тарифам до "
             "1 Гбит/с без доплаты.")
