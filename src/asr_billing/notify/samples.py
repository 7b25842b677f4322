"""A sample subscriber's fields for each event, in a template's language: what the admin
checks a template with and shows in its preview. Money and dates go through the same
formatting as the real messages (600,00 and 05.03.2026 in Russian, 600.00 and 2026-03-05
in English), so the preview is what the subscriber gets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import translation

from asr_billing.notify.events import moment
from asr_billing.notify.models import Event
from asr_billing.notify.state_events import _day, _money

# The sample subscriber and their words in each template language (Message template's
# language choices): a Russian template is previewed with a Russian subscriber.
TEXTS = {
    "ru": {"name": "Иванов Иван Иванович", "operator": "Сбербанк",
           "tariff": "Домашний 200", "old_tariff": "Домашний 100",
           "subject": "Не работает интернет", "text": "Проверили линию, перезагрузите роутер."},
    "en": {"name": "John Smith", "operator": "Sberbank",
           "tariff": "Home 200", "old_tariff": "Home 100",
           "subject": "No internet connection",
           "text": "We have checked the line; please restart your router."},
}


def sample_fields(event: str, language: str) -> dict:
    """The fields of ``event`` (Event) for the sample subscriber in ``language``; {} for
    an unknown event."""
    words = TEXTS.get(language) or TEXTS["ru"]
    person = {"name": words["name"], "contract": "BILL0000003"}
    with translation.override(language):
        fields = {
            Event.PAYMENT_RECEIVED: {
                "amount": _money(Decimal("600.00")), "balance": _money(Decimal("754.88")),
                "date": moment(datetime(2026, 3, 5, 14, 20), language),
                "operator": words["operator"]},
            Event.RUNS_OUT: {"balance": _money(Decimal("45.00")),
                             "date": _day(date(2026, 3, 8), language), "days": 3},
            Event.CUT_OFF: {"balance": _money(Decimal("-12.40")),
                            "minimum": _money(Decimal("12.40"))},
            Event.VBLOCK_ENDS: {"start": _day(date(2026, 3, 1), language),
                                "end": _day(date(2026, 3, 14), language)},
            Event.TARIFF_CHANGE: {"tariff": words["tariff"], "old_tariff": words["old_tariff"],
                                  "fee": _money(Decimal("750.00")),
                                  "date": _day(date(2026, 4, 1), language)},
            Event.HELPDESK_REPLY: {"ticket": 41, "subject": words["subject"],
                                   "text": words["text"]},
        }.get(event)
    return {**person, **fields} if fields is not None else {}
