"""Shared serializer pieces: money as a string with two places."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers


class Money(serializers.DecimalField):
    """Roubles as a string with two places ("1500.00"); in: a string or number, ≤ 2 places."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)


class PositiveMoney(Money):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal("0.01"))
        super().__init__(**kwargs)
