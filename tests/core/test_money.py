"""Money helpers: Decimal with 2 places, ROUND_HALF_UP, float refused, exact splits."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr_billing.core.money import (
    CENT,
    ROUNDING,
    MoneyError,
    fmt,
    money,
    parse_amount,
    split_largest_remainder,
)

D = Decimal


def test_rounding_mode_is_named_half_up():
    assert ROUNDING == ROUND_HALF_UP


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.005"), D("0.01")),  # banker's rounding would give 0.00
        (D("0.015"), D("0.02")),
        (D("0.025"), D("0.03")),  # banker's rounding would give 0.02
        (D("-0.005"), D("-0.01")),
        (D("2.675"), D("2.68")),
        (D("100"), D("100.00")),
        ("33.333", D("33.33")),
        (" 1.5 ", D("1.50")),
        (7, D("7.00")),
        (D("999999999999.99"), D("999999999999.99")),
    ],
)
def test_money_quantizes_half_up(value, expected):
    result = money(value)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("value", [0.1, 1.0, True, False])
def test_money_refuses_float_and_bool(value):
    with pytest.raises(TypeError, match="money must not be a float or bool"):
        money(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("", "'' is not a number"),
        (D("NaN"), "Decimal('NaN') is not a finite number"),
        ("Infinity", "'Infinity' is not a finite number"),
        ("1e30", "'1e30' is too large"),
        (D("1000000000000"), "Decimal('1000000000000') is too large"),
        (D("-999999999999.995"), "Decimal('-999999999999.995') is too large"),
    ],
)
def test_money_refuses_what_is_not_an_amount(value, message):
    with pytest.raises(MoneyError) as info:
        money(value)
    assert str(info.value) == message


def test_fmt():
    assert fmt(D("5")) == "5.00"
    assert fmt(D("-0.5")) == "-0.50"
    assert fmt(D("1234567.891")) == "1234567.89"


# -- parse_amount --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", D("100.00")),
        ("100.5", D("100.50")),
        ("100,50", D("100.50")),  # 1C and terminals write a comma
        ("  42.00 ", D("42.00")),
        ("1\u00a0000,50", D("1000.50")),  # NBSP as group separator
        ("1\u202f000,50", D("1000.50")),  # narrow NBSP: what Russian locale formatting writes
        ("1 000 000", D("1000000.00")),
        (".5", D("0.50")),
        ("+7", D("7.00")),
        (100, D("100.00")),
        (D("12.3"), D("12.30")),
        ("999999999999.99", D("999999999999.99")),
    ],
)
def test_parse_amount_accepts(text, expected):
    result = parse_amount(text)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100.001", "'100.001' has more than 2 decimal places"),
        ("0,005", "'0,005' has more than 2 decimal places"),
        ("0", "'0' must be greater than zero"),
        ("0.00", "'0.00' must be greater than zero"),
        ("-5", "'-5' must be greater than zero"),
        ("", "'' is not an amount"),
        ("abc", "'abc' is not an amount"),
        ("1e3", "'1e3' is not an amount"),
        ("NaN", "'NaN' is not an amount"),
        ("1,000.50", "'1,000.50' is not an amount"),
        ("10 руб", "'10 руб' is not an amount"),
        ("١٠٠", "'١٠٠' is not an amount"),  # Arabic-Indic digits: Decimal takes them, we don't
        ("1000000000000", "'1000000000000' is too large"),
    ],
)
def test_parse_amount_refuses(text, message):
    with pytest.raises(MoneyError) as info:
        parse_amount(text)
    assert str(info.value) == message


@pytest.mark.parametrize("value", [100.0, 0.5, True])
def test_parse_amount_refuses_float_with_type_error(value):
    with pytest.raises(TypeError, match="money must not be a float or bool"):
        parse_amount(value)


def test_parse_amount_signed():
    assert parse_amount("-5,25", positive=False) == D("-5.25")
    assert parse_amount("0", positive=False) == D("0.00")


# -- split_largest_remainder ------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("100.00", [1, 1, 1], ["33.34", "33.33", "33.33"]),
        ("0.02", [1, 1, 1], ["0.01", "0.01", "0.00"]),  # ties: earlier parts first
        ("600.00", [1] * 31, ["19.36"] * 15 + ["19.35"] * 16),  # a month of 31 days
        ("600.00", [1] * 30, ["20.00"] * 30),
        ("500.00", [1] * 28, ["17.86"] * 20 + ["17.85"] * 8),
        ("10.00", [1, 2, 3], ["1.67", "3.33", "5.00"]),
        ("1.00", [0, 1, 0], ["0.00", "1.00", "0.00"]),
        ("-100.00", [1, 1, 1], ["-33.34", "-33.33", "-33.33"]),
        ("0.00", [1, 1], ["0.00", "0.00"]),
        ("7.00", [3], ["7.00"]),
    ],
)
def test_split_examples(total, weights, expected):
    parts = split_largest_remainder(D(total), weights)
    assert parts == [D(x) for x in expected]
    assert sum(parts) == D(total)


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_split_refuses_bad_weights(weights):
    with pytest.raises(ValueError, match="weights must be non-negative with a positive sum"):
        split_largest_remainder(D("1.00"), weights)


def test_split_refuses_float():
    with pytest.raises(TypeError):
        split_largest_remainder(1.0, [1])


@given(
    cents=st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40).filter(
        lambda w: sum(w) > 0
    ),
)
def test_split_adds_up_and_each_part_is_within_a_kopeck(cents, weights):
    total = D(cents) * CENT
    parts = split_largest_remainder(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / weight_sum
        assert abs(part - exact) < CENT
        assert part.as_tuple().exponent == -2
        if weight == 0:
            assert part == 0


@pytest.mark.parametrize("text", ["1" * 27, "1" * 29 + ".5", "9" * 40])
def test_parse_amount_beyond_decimal_precision_is_too_large(text):
    with pytest.raises(MoneyError, match="too large"):
        parse_amount(text)
