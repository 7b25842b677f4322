"""Template helpers of the cabinet pages: links to pages that may not exist (yet), and
money in the visitor's language."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import get_language

from asr_billing.cabinet.web.auth import safe_reverse
from asr_billing.cabinet.web.chart import money_text
from asr_billing.core import runtime

register = template.Library()


@register.simple_tag
def cabinet_url(name: str, *args) -> str:
    """``{% cabinet_url "cabinet:pay" as pay_url %}{% if pay_url %}…``: the URL, or ""
    when the page is not there, so the link is left out."""
    return safe_reverse(name, *args) or ""


@register.filter
def money(value) -> str:
    """``1 234,56 руб.`` in Russian, ``1,234.56 RUB`` in English (app['currency'])."""
    from asr_billing.cabinet.wire import currency

    if value is None or value == "":
        return "—"
    text = money_text(Decimal(value))
    if (get_language() or "").startswith("ru"):
        return f"{text}\u00a0{currency()['SHORT_NAME']}"
    return f"{text}\u00a0{runtime.current().get('app', 'currency')}"


@register.filter
def mbits(kbits) -> str:
    """A shaping rate (kbit/s) in Mbit/s, as a number; "" when not shaped."""
    if not kbits:
        return ""
    value = Decimal(kbits) / 1000
    return f"{value:f}".rstrip("0").rstrip(".") if "." in f"{value:f}" else f"{value:f}"
