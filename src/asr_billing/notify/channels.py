"""Delivering a message: the background tasks' handlers of each channel. A failure raises
TaskFailed with the reason, so the task is retried with a growing delay and its outcome
is in the admin (Background tasks)."""

from __future__ import annotations

from asr_billing.core.tasks import TaskFailed, task_handler


@task_handler("notify.email")
def deliver_email(payload: dict) -> str:
    from asr_billing.cabinet.mail import deliver_mail

    try:
        deliver_mail(to=payload["to"], subject=payload["subject"], body=payload["body"])
    except Exception as exc:  # SMTP refusals, timeouts, a wrong server in cfg/config
        raise TaskFailed(f"{type(exc).__name__}: {exc}") from None
    return f"sent to {payload['to']}"


@task_handler("notify.sms")
def deliver_sms(payload: dict) -> str:
    from asr_billing.notify.sms import SmsError, send_sms

    try:
        sent = send_sms(phone=payload["to"], text=payload["body"])
    except SmsError as exc:
        raise TaskFailed(str(exc)) from None
    return f"sent to {payload['to']}: {sent}"


@task_handler("notify.feed")
def deliver_feed(payload: dict) -> str:
    from asr_billing.cabinet.notifications import notification_create
    from asr_billing.subscribers.models import Subscriber

    subscriber = Subscriber.objects.filter(pk=payload["to"]).first()
    if subscriber is None:
        return "the subscriber no longer exists"
    notification = notification_create(text=payload["body"][:1000], subscriber=subscriber,
                                       actor="notify")
    return f"cabinet notification #{notification.pk}"
