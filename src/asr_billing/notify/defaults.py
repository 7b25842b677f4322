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
    (Event.VBLOCK_ENDS, Channel.EMAIL, "ru", "Добровольная блокировка заканчивается",
     "Здравствуйте, {{ name }}!\n\nДобровольная блокировка лицевого счёта {{ contract }} "
     "заканчивается {{ end }}; с завтрашнего дня доступ и абонентская плата возобновятся."),
    (Event.VBLOCK_ENDS, Channel.EMAIL, "en", "Your voluntary block ends",
     "Hello, {{ name }}!\n\nThe voluntary block of account {{ contract }} ends on {{ end }}; "
     "from tomorrow the service and its fee resume."),
    (Event.VBLOCK_ENDS, Channel.FEED, "ru", "",
     "Добровольная блокировка заканчивается {{ end }}."),
    (Event.VBLOCK_ENDS, Channel.FEED, "en", "", "Your voluntary block ends on {{ end }}."),
    (Event.TARIFF_CHANGE, Channel.EMAIL, "ru", "С {{ date }} тариф «{{ tariff }}»",
     "Здравствуйте, {{ name }}!\n\nС {{ date }} на лицевом счёте {{ contract }} действует "
     "тариф «{{ tariff }}» ({{ fee }} ₽) вместо «{{ old_tariff }}»."),
    (Event.TARIFF_CHANGE, Channel.EMAIL, "en", "Tariff {{ tariff }} from {{ date }}",
     "Hello, {{ name }}!\n\nFrom {{ date }} account {{ contract }} is on tariff "
     "{{ tariff }} ({{ fee }} RUB) instead of {{ old_tariff }}."),
    (Event.TARIFF_CHANGE, Channel.FEED, "ru", "",
     "С {{ date }} действует тариф «{{ tariff }}» ({{ fee }} ₽)."),
    (Event.TARIFF_CHANGE, Channel.FEED, "en", "",
     "Tariff {{ tariff }} ({{ fee }} RUB) applies from {{ date }}."),
    (Event.HELPDESK_REPLY, Channel.EMAIL, "ru", "Ответ по обращению №{{ ticket }}",
     "Здравствуйте, {{ name }}!\n\nПо обращению «{{ subject }}» ответила поддержка:\n\n"
     "{{ text }}\n\nПродолжить переписку можно в личном кабинете."),
    (Event.HELPDESK_REPLY, Channel.EMAIL, "en", "Reply to ticket #{{ ticket }}",
     "Hello, {{ name }}!\n\nSupport replied to \"{{ subject }}\":\n\n{{ text }}\n\n"
     "Reply in your personal cabinet."),
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
