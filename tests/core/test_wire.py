"""core.wire: the helpers the HTTP adapters share."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from asr_billing.core.wire import (
    MAX_JSON_DEPTH,
    json_default,
    json_text,
    nesting_depth,
    same_secret,
    short,
    storable_text,
    url_decode,
    utf8,
)


def test_url_decode_plus_and_encodings():
    assert url_decode(b"%2B7+900", plus_is_space=False) == "+7+900"
    assert url_decode(b"%2B7+900", plus_is_space=True) == "+7 900"
    cp1251 = b"%CE%EF%EB%E0%F2%E0"  # "Оплата" as 1C's URLEncode writes it
    assert url_decode(cp1251, plus_is_space=False, fallback_encoding="cp1251") == "Оплата"
    assert url_decode(cp1251, plus_is_space=False) == "\ufffd" * 6
    utf = "Оплата".encode()
    assert url_decode(utf, plus_is_space=False, fallback_encoding="cp1251") == "Оплата"


def test_nesting_depth():
    assert nesting_depth(1) == 1
    assert nesting_depth({"a": [1, {"b": 2}]}) == 4
    deep = current = []
    for _level in range(10_000):
        current.append([])
        current = current[0]
    # The walk stops past the limit: the answer only says "deeper".
    assert nesting_depth(deep) == MAX_JSON_DEPTH + 1
    assert nesting_depth(deep, limit=3) == 4


def test_json_default_and_text():
    value = {"sum": Decimal("10.50"), "day": date(2024, 12, 31),
             "at": datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "name": "Иван"}
    assert json_text(value) == (
        '{"sum": "10.50", "day": "2024-12-31", "at": "2024-12-31T23:59:00+00:00", '
        '"name": "Иван"}')
    with pytest.raises(TypeError, match="set is not JSON serialisable"):
        json_default({1})
    assert utf8(json.loads('"\\ud800x"')) == b"?x"


def test_same_secret():
    assert same_secret("пароль", "пароль")
    assert not same_secret("пароль", "парол")
    assert not same_secret("\ud800", "\udc00")


def test_storable_text_and_short():
    assert storable_text("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert short("x" * 60) == "x" * 60
    assert short("x" * 61) == "x" * 59 + "…"
    assert short(12345, 4) == "123…"
