"""Delivery through the background tasks: e-mail to a real SMTP server on loopback
(aiosmtpd), the cabinet feed, and a failure kept for the admin and retried."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from asr_billing.cabinet.models import Notification
from asr_billing.core.models import Task, TaskState
from asr_billing.core.tasks import tasks_run_due
from asr_billing.finance.services import payment_register
from asr_billing.notify.defaults import templates_ensure
from asr_billing.notify.events import payments_notify
from asr_billing.notify.models import MessageTemplate
from tests.conftest import ACTOR
from tests.docs.server import free_port

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


class MailServer:
    """aiosmtpd on a fixed loopback port, stopped and started again like a real one."""

    def __init__(self, port: int):
        self.inbox, self.port, self.controller = Inbox(), port, None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(config_edit):
    server = MailServer(free_port())
    server.start()
    config_edit("cabinet", "email.backend", "smtp")
    config_edit("cabinet", "email.smtp_url", f"smtp://127.0.0.1:{server.port}")
    config_edit("cabinet", "email.from", "billing@isp.example")
    yield server
    server.stop()


def paid(subscriber, amount):
    payment_register(subscriber=subscriber, amount=Decimal(amount), actor=ACTOR)
    later = timezone.now() + timedelta(minutes=2)
    payments_notify(now=later)
    return later


def test_email_and_feed_are_delivered(smtp, make_subscriber):
    inbox = smtp.inbox
    templates_ensure()
    MessageTemplate.objects.update(enabled=True)
    subscriber = make_subscriber(email="ivanov@example.ru")
    payments_notify()  # the first tick
    later = paid(subscriber, "600.00")
    assert tasks_run_due(now=later) == {"done": 2, "retry": 0, "failed": 0}
    [(to, message)] = inbox.messages
    assert to == ["ivanov@example.ru"]
    assert message["From"] == "billing@isp.example"
    assert message["Subject"] == "Платёж 600,00 ₽ зачислен"
    body = message.get_content()
    assert "Здравствуйте, Иванов Иван Иванович!" in body and "Баланс: 600,00 ₽." in body
    feed = Notification.objects.get(subscriber=subscriber)
    assert feed.text == "Зачислен платёж 600,00 ₽. Баланс: 600,00 ₽."
    assert set(Task.objects.values_list("state", flat=True)) == {TaskState.DONE}
    assert Task.objects.get(name="notify.email").outcome == "sent to ivanov@example.ru"
    # Run again: nothing is sent twice.
    assert tasks_run_due(now=later) == {"done": 0, "retry": 0, "failed": 0}
    assert len(inbox.messages) == 1


def test_a_mail_server_that_is_down_is_retried_with_the_reason(smtp, make_subscriber):
    inbox = smtp.inbox
    templates_ensure()
    MessageTemplate.objects.filter(channel="email").update(enabled=True)
    subscriber = make_subscriber(email="ivanov@example.ru")
    payments_notify()
    smtp.stop()
    later = paid(subscriber, "100.00")
    assert tasks_run_due(now=later) == {"done": 0, "retry": 1, "failed": 0}
    task = Task.objects.get(name="notify.email")
    assert task.state == TaskState.PENDING and task.attempts == 1
    assert "ConnectionRefusedError" in task.outcome
    smtp.start()
    assert tasks_run_due(now=task.run_after) == {"done": 1, "retry": 0, "failed": 0}
    assert len(inbox.messages) == 1
