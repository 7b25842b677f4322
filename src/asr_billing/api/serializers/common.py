"""Shared serializer pieces: money as a string with two places."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

PLAIN_NUMBER = re.compile(r"\s*-?\d+(\.\d*)?\s*")


class Money(serializers.DecimalField):
    """Roubles as a string with two places ("1500.00"); in: a string or number, ≤ 2 places."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # "1e3", "NaN" and "Infinity" are numbers to Decimal, never amounts of money.
        if isinstance(data, str) and not PLAIN_NUMBER.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)

    default_error_messages = {
        **serializers.DecimalField.default_error_messages,
        "invalid": _("An amount of money such as 1500.00 is expected"),
    }


class PositiveMoney(Money):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal("0.01"))
        super().__init__(**kwargs)
