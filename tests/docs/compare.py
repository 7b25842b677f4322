"""Compare an answer with what a doc shows, ``…`` (U+2026) marking what varies.

JSON answers are compared as data (key order and spacing do not matter):

- ``"…"`` (or a bare ``…``) as a value: any value (a string, a number, null, an object, a
  list);
- ``…`` inside a string (``"Доступ до …"``): any characters there;
- a bare ``…`` as an object's member (``{"pk": 1, …}``): the object may have more keys;
  ``{…}`` is any object;
- a bare ``…`` as a list's last element (``[{"pk": 1}, …]``): more elements may follow
  (at least those shown must be there, so a list shown with rows never matches ``[]``);
  ``[…]`` is any list.

Everything else must be equal, type included (``"1"`` is not ``1``, ``1`` is not ``true``).

Text answers are compared line by line: ``…`` inside a line matches any characters, a
``<name>`` (letters, digits, ``_``) one field without white space, and a line that is only
``…`` any number of lines. A trailing newline does not matter.
"""

from __future__ import annotations

import json
import re

ELLIPSIS = "…"
_MORE = "\x00more"  # a bare … in a list or an object


class _Any:
    def __repr__(self) -> str:
        return '"…"'


ANY = _Any()


def parse_expected_json(text: str):
    """Parse a doc's JSON answer with its ``…`` marks. Raises ValueError when it is not
    JSON even with them."""
    out: list[str] = []
    stack: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c in "{[":
            stack.append(c)
            out.append(c)
        elif c in "}]":
            if stack:
                stack.pop()
            out.append(c)
        elif c == ELLIPSIS:
            before = "".join(out).rstrip()[-1:]
            if before == ":":  # a value: any value
                out.append(json.dumps(ELLIPSIS))
            else:
                marker = json.dumps(_MORE)
                out.append(f"{marker}: null" if stack and stack[-1] == "{" else marker)
        else:
            out.append(c)
        i += 1
    try:
        value = json.loads("".join(out))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON (with … marks): {exc}") from None
    return _markers(value)


def _markers(value):
    if isinstance(value, dict):
        return {k: _markers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_markers(v) for v in value]
    if value == ELLIPSIS:
        return ANY
    return value


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 200 else text[:200] + "…"


def _string_pattern(expected: str) -> re.Pattern:
    return re.compile(".*?".join(re.escape(part) for part in expected.split(ELLIPSIS)), re.S)


FIELD = re.compile(r"<[A-Za-z0-9_]+>")


def _line_pattern(expected: str) -> re.Pattern:
    """A text line: ``…`` any characters, ``<name>`` one field without white space."""
    parts = []
    for index, piece in enumerate(FIELD.split(expected)):
        if index:
            parts.append(r"\S+")
        parts.append(".*?".join(re.escape(part) for part in piece.split(ELLIPSIS)))
    return re.compile("".join(parts))


def json_difference(expected, actual, path: str = "answer") -> str | None:
    """None when ``actual`` matches ``expected``; else where and how it differs."""
    if expected is ANY:
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {_show(actual)}"
        more = _MORE in expected
        for key, value in expected.items():
            if key == _MORE:
                continue
            if key not in actual:
                return f"{path}: the key {json.dumps(key, ensure_ascii=False)} is missing"
            difference = json_difference(value, actual[key], f"{path}.{key}")
            if difference:
                return difference
        extra = [k for k in actual if k not in expected]
        if extra and not more:
            return (f"{path}: keys the doc does not show: "
                    f"{', '.join(json.dumps(k, ensure_ascii=False) for k in extra)} "
                    "(show them, or end the object with …)")
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {_show(actual)}"
        more = bool(expected) and expected[-1] == _MORE
        items = expected[:-1] if more else expected
        if _MORE in items:
            return f"{path}: … may only be a list's last element"
        if len(actual) < len(items) or (len(actual) != len(items) and not more):
            return (f"{path}: expected {len(items)}{' or more' if more else ''} elements, "
                    f"got {len(actual)}: {_show(actual)}")
        for index, (value, got) in enumerate(zip(items, actual, strict=False)):
            difference = json_difference(value, got, f"{path}[{index}]")
            if difference:
                return difference
        return None
    if isinstance(expected, str) and ELLIPSIS in expected:
        if isinstance(actual, str) and _string_pattern(expected).fullmatch(actual):
            return None
        return f"{path}: expected {_show(expected)}, got {_show(actual)}"
    if type(expected) is not type(actual) or expected != actual:
        return f"{path}: expected {_show(expected)}, got {_show(actual)}"
    return None


def text_difference(expected: str, actual: str) -> str | None:
    """None when the text matches (``…`` within a line, or alone on a line for any
    number of lines); else the first line that differs."""
    want = expected.rstrip("\n").split("\n") if expected.strip() else []
    got = actual.rstrip("\n").split("\n") if actual.strip() else []
    if _lines_match(want, got):
        return None
    for number, (w, g) in enumerate(zip(want, got, strict=False), 1):
        if w.strip() == ELLIPSIS or not _line_pattern(w).fullmatch(g):
            if w.strip() == ELLIPSIS:
                break
            return f"line {number}: expected {w!r}, got {g!r}"
    return f"expected {len(want)} lines, got {len(got)}"


def _lines_match(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    head, rest = want[0], want[1:]
    if head.strip() == ELLIPSIS:
        return any(_lines_match(rest, got[k:]) for k in range(len(got) + 1))
    return bool(got) and bool(_line_pattern(head).fullmatch(got[0])) and _lines_match(
        rest, got[1:])
