"""Payment received: found on the scheduler's tick, one message per channel, in the
subscriber's language, never twice; opt-outs, quiet hours and the template checks."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from asr_billing.core.models import Counter, Task
from asr_billing.finance.models import Operation
from asr_billing.finance.services import payment_register
from asr_billing.notify.defaults import templates_ensure
from asr_billing.notify.events import STALE, WATERMARK, payments_notify
from asr_billing.notify.models import Channel, Event, MessageTemplate, Preference, Seen
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")


@pytest.fixture
def templates(db):
    templates_ensure()
    MessageTemplate.objects.update(enabled=True)


def pay(subscriber, amount="600.00", operator=None):
    return payment_register(subscriber=subscriber, amount=Decimal(amount), actor=ACTOR,
                            operator=operator).operation


def started() -> None:
    """The first tick only notes where the ledger is."""
    assert payments_notify() == 0
    assert Counter.objects.get(name=WATERMARK).value >= 0


def later(seconds: float = 0) -> datetime:
    """A tick's clock a minute on."""
    return timezone.now() + timedelta(seconds=61 + seconds)


def read() -> list[int]:
    """The payments read, by id."""
    return sorted(Seen.objects.filter(event=Event.PAYMENT_RECEIVED).values_list("ref", flat=True))


def messages() -> dict[str, dict]:
    return {t.name: t.payload for t in Task.objects.filter(name__startswith="notify.")}


def test_a_payment_is_one_message_per_channel_once(templates, make_subscriber, operator):
    subscriber = make_subscriber(email="ivanov@example.ru")
    pay(make_subscriber(name="Старый платёж"), "5.00")  # before the first tick: not told
    started()
    payment = pay(subscriber, "600.00", operator)
    assert payments_notify() == 2  # read at the first tick after it committed
    sent = messages()
    assert set(sent) == {"notify.email", "notify.feed"}
    email = sent["notify.email"]
    assert email["to"] == "ivanov@example.ru"
    assert email["subject"] == "Платёж 600,00 ₽ зачислен"
    assert f"На лицевой счёт {subscriber.contract_number} " in email["body"]
    assert "платёж 600,00 ₽ (Sberbank (OSMP))." in email["body"]
    assert "Баланс: 600,00 ₽." in email["body"]
    assert sent["notify.feed"]["body"] == "Зачислен платёж 600,00 ₽. Баланс: 600,00 ₽."
    assert read() == [payment.pk]
    assert payments_notify(now=later()) == 0  # read: not again
    # Read again (what it had read forgotten): still one task per channel, and the
    # count says nothing new was asked for.
    Seen.objects.all().delete()
    assert payments_notify(now=later()) == 0
    assert read() == [payment.pk]
    assert Task.objects.filter(name__startswith="notify.").count() == 2


def test_language_opt_out_and_no_address(templates, make_subscriber):
    english = make_subscriber(name="Smith", email="smith@example.com")
    Preference.objects.create(subscriber=english, language="en", feed_off=True)
    no_mail = make_subscriber(name="Без почты")
    started()
    pay(english, "10.50")
    pay(no_mail, "20.00")
    assert payments_notify(now=later()) == 2  # Smith's e-mail, the other one's feed
    tasks = list(Task.objects.filter(name__startswith="notify.").order_by("id"))
    assert [(t.name, t.payload["to"]) for t in tasks] == [
        ("notify.email", "smith@example.com"), ("notify.feed", str(no_mail.pk))]
    assert tasks[0].payload["subject"] == "Payment of 10.50 RUB received"


def test_disabled_templates_tell_nobody_and_move_on(make_subscriber):
    templates_ensure()  # written, disabled: a new installation
    subscriber = make_subscriber(email="a@example.ru")
    started()
    payment = pay(subscriber)
    assert payments_notify(now=later()) == 0
    assert not Task.objects.exists()
    assert read() == [payment.pk]  # enabling the templates later does not tell it


def test_quiet_hours_hold_email_not_the_feed(templates, make_subscriber, config_edit):
    config_edit("notify", "quiet_hours", "22:00-09:00")
    subscriber = make_subscriber(email="a@example.ru")
    night = datetime(2026, 3, 5, 23, 30, tzinfo=MSK)
    with time_machine.travel(night, tick=False):
        started()
        pay(subscriber)
    tick = night + timedelta(seconds=20)
    assert payments_notify(now=tick) == 2
    assert Task.objects.get(name="notify.email").run_after == datetime(2026, 3, 6, 9, 0,
                                                                        tzinfo=MSK)
    assert Task.objects.get(name="notify.feed").run_after == tick


@pytest.mark.parametrize("hours, local, expected", [
    ("22:00-09:00", (23, 30), (1, 9, 0)),  # after the start: tomorrow morning
    ("22:00-09:00", (3, 0), (0, 9, 0)),  # after midnight: this morning
    ("22:00-09:00", (12, 0), None),  # outside: at once
    ("13:00-14:00", (13, 59), (0, 14, 0)),  # within one day
    ("", (23, 30), None),
])
def test_send_after(config_edit, hours, local, expected):
    from asr_billing.notify.quiet import send_after

    config_edit("notify", "quiet_hours", hours)
    now = datetime(2026, 3, 5, *local, tzinfo=MSK)
    want = now if expected is None else datetime(2026, 3, 5 + expected[0], *expected[1:],
                                                 tzinfo=MSK)
    assert send_after("email", now) == want
    assert send_after("feed", now) == now  # never held


@pytest.mark.parametrize("key, value", [("quiet_hours", "22-09"), ("quiet_hours", "9:00-9:00"),
                                        ("quiet_hours", "25:00-09:00"),
                                        ("quiet.channels", "email pigeon")])
def test_bad_settings_are_refused(tmp_path, key, value):
    from asr_billing.core.config import ConfigError, ConfigFile

    config = ConfigFile.parse("")
    with pytest.raises(ConfigError):
        config.set("notify", key, value)
    assert config.render() == ""


def test_the_admin_refuses_a_broken_template_and_previews_a_good_one(admin_client, db):
    url = "/admin/notify/messagetemplate/add/"
    form = {"event": Event.PAYMENT_RECEIVED, "channel": Channel.EMAIL, "language": "ru",
            "subject": "Платёж {{ amount ", "body": "{% if %}", "enabled": "on"}
    answer = admin_client.post(url, form)
    assert answer.status_code == 200  # the form again, with the errors
    assert not MessageTemplate.objects.exists()
    form.update(subject="Платёж {{ amount }} ₽", body="Баланс: {{ balance }} ₽")
    answer = admin_client.post(url, form)
    assert answer.status_code == 302
    template = MessageTemplate.objects.get()
    page = admin_client.get(f"/admin/notify/messagetemplate/{template.pk}/change/")
    text = page.content.decode()
    assert "Платёж 600,00 ₽" in text and "Баланс: 754,88 ₽" in text


def test_the_admin_previews_an_english_template_with_english_fields(admin_client, db):
    """An English text is checked and shown with an English sample subscriber: money and
    dates as the English messages have them, no Russian words."""
    url = "/admin/notify/messagetemplate/add/"
    form = {"event": Event.PAYMENT_RECEIVED, "channel": Channel.EMAIL, "language": "en",
            "subject": "Payment of {{ amount }} RUB",
            "body": "Dear {{ name }}, {{ date }} via {{ operator }}; balance {{ balance }}.",
            "enabled": "on"}
    assert admin_client.post(url, form).status_code == 302
    template = MessageTemplate.objects.get()
    text = admin_client.get(f"/admin/notify/messagetemplate/{template.pk}/change/") \
        .content.decode()
    assert "<b>Payment of 600.00 RUB</b>" in text
    assert "Dear John Smith, 2026-03-05 14:20 via Sberbank; balance 754.88." in text
    assert "Иванов" not in text and "600,00" not in text


@pytest.mark.parametrize("language", ["ru", "en"])
def test_sample_fields_are_the_real_fields_of_each_event(language):
    """The sample has exactly the fields the event's messages have."""
    from asr_billing.notify.samples import sample_fields

    fields = {Event.PAYMENT_RECEIVED: "amount balance contract date name operator",
              Event.RUNS_OUT: "balance contract date days name",
              Event.CUT_OFF: "balance contract minimum name",
              Event.VBLOCK_ENDS: "contract end name start",
              Event.TARIFF_CHANGE: "contract date fee name old_tariff tariff",
              Event.HELPDESK_REPLY: "contract name subject text ticket"}
    for event, names in fields.items():
        assert sorted(sample_fields(event, language)) == names.split()
    assert sample_fields(Event.CUT_OFF, language)["balance"] == \
        {"ru": "-12,40", "en": "-12.40"}[language]


def test_a_broken_text_or_an_old_payment_does_not_stop_the_others(templates, make_subscriber):
    """A template that fails only when sent (an {% include %} of nothing) skips its
    messages and the watermark moves on; a payment dated days ago is not news."""
    MessageTemplate.objects.filter(channel=Channel.EMAIL, language="ru").update(
        body="{% if amount %}{% include 'nothing.txt' %}{% endif %}")
    subscriber = make_subscriber(email="a@example.ru")
    started()
    pay(subscriber, "10.00")
    old = payment_register(subscriber=subscriber, amount=Decimal("20.00"), actor=ACTOR,
                           op_date=timezone.now() - timedelta(days=3)).operation
    assert payments_notify(now=later()) == 1  # the feed of the first payment only
    assert [t.name for t in Task.objects.all()] == ["notify.feed"]
    assert old.pk not in read()  # out of the window: never read


def test_a_payment_brought_over_by_import_carbon_is_not_told_again(templates,
                                                                   make_subscriber):
    """The last day of another billing's payments, imported at the switch, was told by
    that billing; a payment taken here the same minute is told."""
    from asr_billing.carbon_import.money import ACTOR as IMPORT

    subscriber = make_subscriber(email="a@example.ru")
    started()
    imported = payment_register(subscriber=subscriber, amount=Decimal("20.00"),
                                actor=IMPORT).operation
    ours = pay(subscriber, "10.00")
    assert payments_notify(now=later()) == 2  # e-mail and feed of ours only
    assert sorted(Task.objects.values_list("key", flat=True)) == [
        f"notify:payment_received:{ours.pk}:email", f"notify:payment_received:{ours.pk}:feed"]
    assert imported.pk not in read()


def test_a_payment_that_commits_late_is_told(templates, make_subscriber):
    """A payment whose id is below the ones read already (its transaction committed
    after theirs: here its id is moved below) is read on the next tick, however late."""
    first = make_subscriber(name="Первый")
    late = make_subscriber(name="Поздний", email="late@example.ru")
    started()
    early = pay(first, "10.00")
    gap = early.pk
    Operation.objects.filter(pk=gap).update(id=gap + 100)  # its id taken by the late one
    assert payments_notify(now=later()) == 1  # the first one's feed
    payment = pay(late, "20.00")
    Operation.objects.filter(pk=payment.pk).update(id=gap)  # committed an hour late
    assert payments_notify(now=later(3600)) == 2  # its e-mail and feed
    assert Task.objects.get(name="notify.email").key == \
        f"notify:payment_received:{gap}:email"
    assert payments_notify(now=later(3600)) == 0
    assert read() == [gap, gap + 100]


def test_what_was_read_is_forgotten_after_two_days(templates, make_subscriber):
    """The rows read are kept while a payment may still be told; then forgotten, and the
    floor moves over them (the window stays a short range)."""
    subscriber = make_subscriber()
    started()
    payment = pay(subscriber)
    assert payments_notify() == 1
    assert payments_notify(now=timezone.now() + STALE * 2 - timedelta(minutes=1)) == 0
    assert read() == [payment.pk]
    assert payments_notify(now=timezone.now() + STALE * 2 + timedelta(minutes=1)) == 0
    assert read() == []
    assert Counter.objects.get(name=WATERMARK).value == payment.pk


@pytest.mark.django_db(transaction=True)
def test_a_payment_committed_after_a_later_one_is_told_postgresql(templates, make_subscriber):
    """PostgreSQL: a payment's transaction holds its id while a payment with a higher
    id commits and is read; committed a minute later, it is read and told."""
    import threading

    from django.db import connections, transaction

    from tests.conftest import on_postgres

    if not on_postgres():
        pytest.skip("needs PostgreSQL: two transactions at once")
    slow, fast = make_subscriber(name="Медленный"), make_subscriber(name="Быстрый")
    started()
    inserted, release, done = threading.Event(), threading.Event(), []

    def slow_payment():
        try:
            with transaction.atomic():
                done.append(pay(slow, "30.00").pk)
                inserted.set()
                release.wait(30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=slow_payment)
    worker.start()
    assert inserted.wait(30)
    quick = pay(fast, "40.00")
    assert quick.pk > done[0]
    assert payments_notify(now=later(60)) == 1  # the quick one's feed
    release.set()
    worker.join()
    assert payments_notify(now=later(120)) == 1  # the slow one's feed
    assert read() == [done[0], quick.pk]
