"""Money: ``Decimal`` with 2 places and one named rounding mode. Float is refused everywhere.

Amounts are in the deployment's currency (app['currency']), in major units (roubles),
with kopecks as the 2 decimal places.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from asr_billing.core.errors import InvalidInput

MAX_DIGITS = 14
DECIMAL_PLACES = 2
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The first amount a MoneyField cannot store (12 integer digits).
TOO_LARGE = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)
# Commercial rounding: 0.005 -> 0.01. Decimal's default (banker's) would surprise an accountant.
ROUNDING = ROUND_HALF_UP
MAX_AMOUNT = TOO_LARGE - CENT  # 999999999999.99, the largest amount a MoneyField holds

# ASCII digits only: Decimal() would also take Arabic-Indic or full-width ones.
_MONEY_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# Group separators people and locales put into amounts: space, NBSP, narrow NBSP.
_GROUP_SEPARATORS = str.maketrans("", "", " \u00a0\u202f")


class MoneyError(ValueError):
    """A value is not an acceptable amount of money."""


def money(value: Decimal | int | str) -> Decimal:
    """Quantize to kopecks with ROUND_HALF_UP. Floats raise TypeError: they are never exact.

    Amounts a MoneyField cannot store (12 integer digits or more) raise MoneyError.
    """
    if isinstance(value, (float, bool)):
        raise TypeError("money must not be a float or bool; pass Decimal, int or str")
    try:
        result = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise MoneyError(f"{value!r} is not a number") from None
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite number")
    # Checked before quantize(), which raises InvalidOperation past 28 digits.
    if abs(result) >= TOO_LARGE:
        raise MoneyError(f"{value!r} is too large")
    result = result.quantize(CENT, rounding=ROUNDING)
    if abs(result) >= TOO_LARGE:  # 999999999999.995 rounds up to 10**12
        raise MoneyError(f"{value!r} is too large")
    return result


def too_large(value) -> bool:
    """Whether ``value`` (a Decimal, an int or numeric text in any notation: ``1e13``,
    30 digits, ``1 000``) is a finite number a MoneyField cannot hold, after rounding to
    kopecks. Anything else is not "too large": the caller refuses it as any bad amount.
    Lets an entry point say why an amount is refused instead of "not an amount"."""
    if isinstance(value, (bool, float)):
        return False
    try:
        number = value if isinstance(value, Decimal) else Decimal(
            str(value).strip().translate(_GROUP_SEPARATORS).replace(",", ".")
        )
    except (InvalidOperation, ValueError, TypeError):
        return False
    if not number.is_finite():
        return False
    # Compared before quantize(), which raises InvalidOperation past 28 digits.
    return abs(number) >= TOO_LARGE or abs(number.quantize(CENT, rounding=ROUNDING)) >= TOO_LARGE


def amount_too_large(label) -> InvalidInput:
    """The error for an amount past MAX_AMOUNT, naming the field: "Fee is too large: at
    most 999999999999.99" (translated). ``label`` is the field's name as the user knows
    it: a capitalised label in the admin's words, or a wire name as the client sent it."""
    from django.utils.translation import gettext as _

    from asr_billing.core.errors import InvalidInput

    return InvalidInput(
        _("%(field)s is too large: at most %(max)s") % {"field": label, "max": MAX_AMOUNT},
        code="too_large",
    )


def parse_amount(text: str | int | Decimal, *, positive: bool = True) -> Decimal:
    """Parse an amount from the wire strictly: digits with at most 2 decimals, no rounding.

    Accepts ``"100"``, ``"100.5"``, ``"100,50"`` (1C and terminals write a comma),
    surrounding spaces and space / NBSP / narrow NBSP group separators. ``positive``
    refuses zero and negatives.
    """
    if isinstance(text, (float, bool)):
        raise TypeError("money must not be a float or bool")
    raw = str(text).strip().translate(_GROUP_SEPARATORS).replace(",", ".")
    if not _MONEY_TEXT.fullmatch(raw):
        raise MoneyError(f"{text!r} is not an amount")
    value = Decimal(raw)
    # Size first: quantize() itself fails past Decimal's 28 digits of precision.
    if abs(value) >= TOO_LARGE:
        raise MoneyError(f"{text!r} is too large")
    if value != value.quantize(CENT):
        raise MoneyError(f"{text!r} has more than 2 decimal places")
    if positive and value <= 0:
        raise MoneyError(f"{text!r} must be greater than zero")
    return value.quantize(CENT)


def split_largest_remainder(total: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """Split ``total`` into parts proportional to ``weights`` that add up to it exactly.

    Each part is floored to kopecks, then the leftover kopecks go one each to the parts
    with the largest remainders (ties: earlier parts first). Example: 100.00 over 3 equal
    weights -> 33.34, 33.33, 33.33. Negative totals are split by their absolute value.
    """
    total = money(total)
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative with a positive sum")
    sign = -1 if total < 0 else 1
    cents = int(abs(total) / CENT)
    weight_sum = sum(weights)
    floors = [cents * w // weight_sum for w in weights]
    remainders = [cents * w % weight_sum for w in weights]
    leftover = cents - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return [sign * Decimal(c) * CENT for c in floors]


def fmt(value: Decimal) -> str:
    """Money as a string with exactly 2 places, the way it leaves in JSON and text."""
    return str(money(value))


class MoneyField(models.DecimalField):
    """DecimalField with the project's precision policy (no literals in each model)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        # Migrations reference plain DecimalField so they don't depend on this module's path.
        return name, "django.db.models.DecimalField", args, kwargs
