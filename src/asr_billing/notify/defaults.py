"""The templates a new installation starts with: written, disabled. An operator reads them,
changes what the ISP says differently, and enables them (Notifications → Message
templates)."""

from __future__ import annotations

from asr_billing.notify.models import Channel, Event, MessageTemplate

DEFAULTS = [
    (Event.PAYMENT_RECEIVED, Channel.EMAIL, "ru", "Платёж {{ amount }} ₽ зачислен",
     "Здравствуйте, {{ name }}!\n\nНа лицевой счёт {{ contract }} {{ date }} зачислен "
     "платёж {{ amount }} ₽{% if operator %} ({{ operator }}){% endif %}.\n"
     "Баланс: {{ balance }} ₽."),
    (Event.PAYMENT_RECEIVED, Channel.EMAIL, "en", "Payment of {{ amount }} RUB received",
     "Hello, {{ name }}!\n\nA payment of {{ amount }} RUB{% if operator %} ({{ operator }})"
     "{% endif %} was credited to account {{ contract }} on {{ date }}.\n"
     "Balance: {{ balance }} RUB."),
    (Event.PAYMENT_RECEIVED, Channel.FEED, "ru", "",
     "Зачислен платёж {{ amount }} ₽. Баланс: {{ balance }} ₽."),
    (Event.PAYMENT_RECEIVED, Channel.FEED, "en", "",
     "Payment of {{ amount }} RUB received. Balance: {{ balance }} RUB."),
]


def templates_ensure() -> int:
    """Create the default templates that are missing (never changes an existing one)."""
    made = 0
    for event, channel, language, subject, body in DEFAULTS:
        _template, created = MessageTemplate.objects.get_or_create(
            event=event, channel=channel, language=language,
            defaults={"subject": subject, "body": body, "enabled": False})
        made += created
    return made
