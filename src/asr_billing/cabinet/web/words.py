"""Carbon's wire texts in the visitor's language on the cabinet pages.

The cabinet services refuse in Carbon's own Russian words (billing.texts, cabinet.texts):
apps compare them byte for byte, so the services never translate them. A subscriber who
chose English on the pages should still read the reason in English: ``in_words`` turns a
known wire text (with its number or amount) into our English sentence, and leaves Russian
pages, and any text it does not know, as they are.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from asr_billing.billing import texts as billing
from asr_billing.cabinet import texts as cabinet

# (Carbon's text, with %s or {0} for its one value; ours, with %(value)s for it).
WIRE_WORDS = [
    (billing.PROMISED_ONLY_TO_UNBLOCK,
     _("A promised payment can only be taken while the Internet is off for lack of money.")),
    (billing.PROMISED_ALREADY_ACTIVE, _("A promised payment is in force already.")),
    (billing.PROMISED_MONTH_LIMIT,
     _("A promised payment was already taken %(value)s time(s) this month.")),
    (billing.PROMISED_NOT_AVAILABLE, _("A promised payment is not available on your tariff.")),
    (billing.VBLOCK_IN_PAST, _("A voluntary block cannot start in the past.")),
    (billing.VBLOCK_TOO_LONG, _("A voluntary block can last at most %(value)s days.")),
    (billing.VBLOCK_TOO_SHORT, _("A voluntary block must last at least %(value)s days.")),
    (billing.VBLOCK_NO_FUNDS,
     _("Not enough money for the voluntary block: it costs %(value)s.")),
    (billing.VBLOCK_ALREADY, _("You are blocked already; a second block is not possible.")),
    (billing.VBLOCK_MONTH_LIMIT, _("The number of voluntary blocks this month is used up.")),
    (billing.VBLOCK_LIFTED, _("The voluntary block is lifted.")),
    (cabinet.PASSWORD_RULE,
     _("The password must have no spaces and be shorter than 16 characters.")),
    (cabinet.SMS_INVALID, _("This is not a phone number for notices.")),
    (cabinet.PAYMENT_SUM_INVALID, _("The amount is not valid.")),
    (cabinet.PAYMENT_SUM_ZERO, _("The amount must not be zero.")),
    (cabinet.TICKET_TEXT_EMPTY, _("Write the text of the message.")),
    (cabinet.TICKET_CLOSED_NO_COMMENTS, _("The ticket is closed: no more messages in it.")),
    (cabinet.TICKET_NOT_YOURS, _("This is not your ticket.")),
]


def _pattern(wire: str) -> re.Pattern:
    escaped = re.escape(wire)
    for placeholder in ("%s", "{0}"):
        escaped = escaped.replace(re.escape(placeholder), "(.+?)")
    return re.compile(escaped, re.DOTALL)


_COMPILED = [(_pattern(wire), words) for wire, words in WIRE_WORDS]


def in_words(text) -> str:
    """``text`` as the visitor reads it: a known Carbon text in English on English pages."""
    text = str(text)
    if (get_language() or "ru").startswith("ru"):
        return text
    for pattern, words in _COMPILED:
        found = pattern.fullmatch(text)
        if found:
            return str(words) % {"value": found.group(1)} if found.groups() else str(words)
    return text
