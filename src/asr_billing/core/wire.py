"""Wire helpers the HTTP adapters share (system_api, rest_v2, the cabinet bridge): reading
what clients send (percent-decoding, JSON nesting), writing JSON answers, and comparing
secrets. The quirks of one adapter stay in that adapter; what is here is the same for all.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_to_bytes

# How deep a client's JSON may nest (objects and lists). Real clients send flat objects;
# a deeper value is refused before anything walks it recursively.
MAX_JSON_DEPTH = 20
# Years a date from a client may have; outside them it is a typo (or 1C's empty date,
# 01.01.0001, which the system API reads before this bound).
MIN_YEAR, MAX_YEAR = 1900, 2999
# Characters no database text column accepts (NUL: PostgreSQL) and lone surrogates
# (not encodable), which JSON's \u escapes let a client send.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """``value`` with NUL and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def short(value: Any, limit: int = 60) -> str:
    """A client's value as text for an error message, cut to ``limit`` characters (a
    2 MB argument is not echoed back whole)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A whole number as digits, optionally with a zero fraction: "2", "-2", "2.0", "2.".
# Gson (the Android cabinet reads answers as Map<String, Any>) turns every JSON number
# into a Double, so an id it read as 2 comes back as "2.0". "2.5", "2.0e3" are not ids.
_INTEGRAL = re.compile(r"[+-]?[0-9]{1,30}(?:\.0*)?")


def integral_text(text: str) -> int | None:
    """The whole number ``text`` writes ("2", "2.0", " -3 "), or None when it is not one
    ("2.5", "2.0e3", "abc", more than 30 digits)."""
    text = text.strip()
    if not _INTEGRAL.fullmatch(text):
        return None
    return int(text.partition(".")[0])


def url_decode(raw: bytes, *, plus_is_space: bool, fallback_encoding: str | None = None) -> str:
    """Percent-decode ``raw`` (bytes as received) to text. A ``+`` becomes a space only
    when ``plus_is_space`` (a client that did not URL-encode meant a plus). The bytes are
    UTF-8; when they are not, ``fallback_encoding`` (if given) reads them, else the bad
    bytes become U+FFFD."""
    data = unquote_to_bytes(raw.replace(b"+", b" ") if plus_is_space else raw)
    if fallback_encoding is None:
        return data.decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(fallback_encoding, errors="replace")


def nesting_depth(value: Any, *, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 1), iteratively: a recursive walk
    could itself overflow the stack. The walk stops past ``limit``, so the answer is exact
    up to ``limit + 1`` and only says "deeper" beyond."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default`` for answers: a Decimal leaves as its string (money
    keeps its places, never a float), a date or datetime in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(value: Any, *, default: Callable[[Any], Any] = json_default) -> str:
    """An answer as JSON text, non-ASCII kept as it is."""
    return json.dumps(value, ensure_ascii=False, default=default)


def utf8(text: str) -> bytes:
    """Text as UTF-8 bytes for a response. Lone surrogates (from ``\\ud800`` escapes in a
    client's JSON) cannot be UTF-8 and become ``?``."""
    return text.encode("utf-8", errors="replace")


def same_secret(given: str, expected: str) -> bool:
    """Compare a password or key in constant time. As bytes, because compare_digest
    refuses non-ASCII str; surrogatepass keeps every distinct input distinct."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
