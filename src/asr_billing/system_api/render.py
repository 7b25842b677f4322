"""Answer formats: JSON (``format=json``), plain text lines (collector lists without a
format) and XML (everything else without a format, as the old API answered).

XML schema (documented in docs/system-api.md)::

    <?xml version="1.0" encoding="utf-8"?>
    <response>            the answer value
      <key>..</key>       a dict entry whose key is an XML name
      <item key="k">..</item>   a dict entry whose key is not (digits, spaces, ...)
      <item>..</item>     a list element
    </response>

Scalars are text: strings as they are, numbers as digits, Decimals with their places,
true/false for booleans; null is an empty element with ``null="true"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse

from asr_billing.core import wire
from asr_billing.core.wire import utf8

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Characters XML 1.0 does not allow, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Lines:
    """An answer with a plain-text form, one line per item (the collector lists).

    ``items`` are raw rows (tuples straight from the database), or a callable fetching
    them on first use; ``line`` turns one into its text line and ``row`` into its data
    form (JSON/XML). Nothing is converted until a form is asked for, and the text form
    never builds the dicts (100,000-line lists). ``text_source``, when given, returns the
    whole text at once (formatted by the database) and the rows are not fetched.
    """

    def __init__(
        self,
        items: list | Callable[[], list],
        line: Callable[[Any], str],
        row: Callable[[Any], dict],
        text_source: Callable[[], str] | None = None,
    ):
        self._items = items
        self.line = line
        self.row = row
        self.text_source = text_source

    @property
    def items(self) -> list:
        if callable(self._items):
            self._items = list(self._items())
        return self._items

    @property
    def rows(self) -> list[dict]:
        return [self.row(item) for item in self.items]

    def text(self) -> str:
        if self.text_source is not None:
            return self.text_source()
        line = self.line
        return "".join([line(item) + "\n" for item in self.items])


class JsonObject(dict):
    """An answer that is JSON even when the request names no format: the IPTV plug-in
    (carbonsoft's Elecard V-Cinema library, billing.c) asks without ``format=`` and reads
    the body with cJSON_Parse, keeping only an object. ``format=xml`` still gets XML."""


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default`` for system API answers: a Lines answer as its rows,
    else as every adapter's (core.wire: Decimals as strings, dates in ISO 8601)."""
    if isinstance(value, Lines):
        return value.rows
    return wire.json_default(value)


def json_text(value: Any) -> str:
    return wire.json_text(value, default=json_default)


def json_response(value: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(utf8(json_text(value)), status=status, content_type=JSON_TYPE)


def text_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(utf8(text), status=status, content_type=TEXT_TYPE)


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    return escape(_XML_INVALID.sub("\ufffd", text))


def _xml(value: Any, tag: str, attrs: str, out: list[str]) -> None:
    if isinstance(value, Lines):
        value = value.rows
    if value is None:
        out.append(f'<{tag}{attrs} null="true"/>')
    elif isinstance(value, dict):
        out.append(f"<{tag}{attrs}>")
        for key, item in value.items():
            key = str(key)
            if _XML_NAME.fullmatch(key) and not key.lower().startswith("xml"):
                _xml(item, key, "", out)
            else:
                safe = _XML_INVALID.sub("\ufffd", key)
                _xml(item, "item", f" key={quoteattr(safe)}", out)
        out.append(f"</{tag}>")
    elif isinstance(value, list | tuple):
        out.append(f"<{tag}{attrs}>")
        for item in value:
            _xml(item, "item", "", out)
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}{attrs}>{_xml_text(value)}</{tag}>")


def to_xml(value: Any) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _xml(value, "response", "", out)
    out.append("\n")
    return "".join(out)


def xml_response(value: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(utf8(to_xml(value)), status=status, content_type=XML_TYPE)


def answer_response(value: Any, fmt: str) -> HttpResponse:
    """A successful answer in the requested format (see module docstring)."""
    if fmt == "json" or (isinstance(value, JsonObject) and fmt in ("", "text")):
        return json_response(value)
    if isinstance(value, Lines) and fmt in ("", "text"):
        return text_response(value.text())
    return xml_response(value)


def project(value: Any, fields: Iterable[str] | None) -> Any:
    """Apply the old API's ``fields1``: keep only the named keys of each object (and its
    ``pk``); Django-serialised objects are trimmed inside their ``fields``."""
    if not fields:
        return value
    wanted = set(fields)

    def trim(item):
        if not isinstance(item, dict):
            return item
        if isinstance(item.get("fields"), dict):
            trimmed = {k: v for k, v in item["fields"].items() if k in wanted}
            return {**{k: v for k, v in item.items() if k != "fields"}, "fields": trimmed}
        return {k: v for k, v in item.items() if k in wanted or k == "pk"}

    if isinstance(value, list):  # not Lines: a text line needs all its columns
        return [trim(item) for item in value]
    return value
