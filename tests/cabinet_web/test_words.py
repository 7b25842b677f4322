"""Carbon's wire texts on the cabinet pages: English words on English pages (with the
text's value), Carbon's own on Russian pages, unknown texts untouched."""

from __future__ import annotations

from django.utils import translation

from asr_billing.billing import texts as billing
from asr_billing.cabinet.web.words import WIRE_WORDS, in_words


def test_english_pages_get_english_words():
    with translation.override("en"):
        assert in_words(billing.VBLOCK_TOO_LONG % 90) == (
            "A voluntary block can last at most 90 days.")
        assert in_words(billing.VBLOCK_NO_FUNDS % "150.00") == (
            "Not enough money for the voluntary block: it costs 150.00.")
        assert in_words(billing.PROMISED_NOT_AVAILABLE) == (
            "A promised payment is not available on your tariff.")
        assert in_words("Something else") == "Something else"


def test_russian_pages_keep_carbons_words():
    with translation.override("ru"):
        for wire, _words in WIRE_WORDS:
            assert in_words(wire) == wire


def test_every_wire_text_has_english_words():
    with translation.override("en"):
        for wire, words in WIRE_WORDS:
            sample = wire.replace("%s", "7").replace("{0}", "7")
            assert in_words(sample) == str(words) % {"value": "7"}
            assert not any("а" <= ch <= "я" for ch in in_words(sample).lower())
