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
    (Event.PAYMENT_RECEIVED, Channel.SMS, "ru", "",
     "Платёж {{ amount }} р. зачислен, баланс {{ balance }} р."),
    (Event.PAYMENT_RECEIVED, Channel.SMS, "en", "",
     "Payment {{ amount }} RUB received, balance {{ balance }} RUB."),
    (Event.RUNS_OUT, Channel.SMS, "ru", "",
     "Денег на счёте {{ contract }} хватит до {{ date }}. Пополните счёт."),
    (Event.RUNS_OUT, Channel.SMS, "en", "",
     "Account {{ contract }}: money lasts until {{ date }}. Please top up."),
    (Event.CUT_OFF, Channel.SMS, "ru", "",
     "Интернет приостановлен: баланс {{ balance }} р. Внесите от {{ minimum }} р."),
    (Event.CUT_OFF, Channel.SMS, "en", "",
     "Internet suspended: balance {{ balance }} RUB. Pay {{ minimum }} RUB or more."),
    (Event.RUNS_OUT, Channel.EMAIL, "ru", "Деньги на счёте {{ contract }} заканчиваются",
     "Здравствуйте, {{ name }}!\n\nНа лицевом счёте {{ contract }} {{ balance }} ₽: этого "
     "хватит до {{ date }} включительно. Пополните счёт, чтобы интернет не отключился."),
    (Event.RUNS_OUT, Channel.EMAIL, "en", "Account {{ contract }}: the money runs out soon",
     "Hello, {{ name }}!\n\nAccount {{ contract }} holds {{ balance }} RUB, enough until "
     "{{ date }}. Top it up to stay online."),
    (Event.RUNS_OUT, Channel.FEED, "ru", "",
     "Денег на счёте хватит до {{ date }} включительно. Пополните счёт заранее."),
    (Event.RUNS_OUT, Channel.FEED, "en", "",
     "The money on your account lasts until {{ date }}. Top it up in time."),
    (Event.CUT_OFF, Channel.EMAIL, "ru", "Интернет отключён: на счёте {{ contract }} нет денег",
     "Здравствуйте, {{ name }}!\n\nБаланс лицевого счёта {{ contract }}: {{ balance }} ₽, "
     "доступ в интернет приостановлен. Чтобы его вернуть, внесите не меньше "
     "{{ minimum }} ₽."),
    (Event.CUT_OFF, Channel.EMAIL, "en", "Internet suspended: account {{ contract }} is out "
     "of money",
     "Hello, {{ name }}!\n\nThe balance of account {{ contract }} is {{ balance }} RUB and "
     "the internet access is suspended. Pay at least {{ minimum }} RUB to restore it."),
    (Event.CUT_OFF, Channel.FEED, "ru", "",
     "Доступ приостановлен: баланс {{ balance }} ₽. Внесите не меньше {{ minimum }} ₽."),
    (Event.CUT_OFF, Channel.FEED, "en", "",
     "Access suspended: the balance is {{ balance }} RUB. Pay at least {{ minimum }} RUB."),
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
