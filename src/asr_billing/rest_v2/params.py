"""Reading a REST v2 request: ``method1``/``arg1`` … ``methodN``/``argN``, ``fields``,
``limit``, ``offset``, from a form body or the query string (the body wins).

Quirk handled here: scripts build the body by string concatenation without URL-encoding
(``data = 'method1=objects.create&arg1={"abonent_id":"' + id + '", ...}'``, reference §5,
C-PYH), so a literal ``+`` in a JSON argument is a plus (a phone number), not a space.
When the raw text of an argument holds JSON punctuation unencoded, it is decoded without
turning ``+`` into a space; otherwise Django's ordinary decoding is used.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput
from asr_billing.core.wire import MAX_JSON_DEPTH, nesting_depth, url_decode
from asr_billing.rest_v2.chain import MAX_STEPS

_PARAM = re.compile(rb"(?:^|&)(method\d+|arg\d+|fields|limit|offset|get_version)=")
_METHOD_KEY = re.compile(r"method(\d+)")


class ParamError(InvalidInput):
    """A request parameter cannot be read."""


def raw_values(raw: bytes, names: re.Pattern = _PARAM) -> dict[str, bytes]:
    """Still-encoded values of the known parameters in a query string or form body. An
    unencoded ``&`` inside a JSON value only ends it before another known parameter;
    ``names`` matches ``(?:^|&)<known name>=`` (another adapter knows other names)."""
    found = list(names.finditer(raw))
    values: dict[str, bytes] = {}
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(raw)
        values.setdefault(match.group(1).decode("ascii"), raw[match.end() : end])
    return values


def parse_json(name: str, decoded: str | None, raw: bytes | None, *,
               fallback_encoding: str | None = None) -> Any:
    """A JSON parameter; floats are read as Decimal (money never goes through float).
    ``fallback_encoding`` reads percent-encoded bytes that are not UTF-8 (1C's cp1251)."""
    candidates = []
    if raw is not None and (b"{" in raw or b"[" in raw or b'"' in raw):
        candidates.append(url_decode(raw, plus_is_space=False,
                                     fallback_encoding=fallback_encoding))
    if decoded is not None:
        candidates.append(decoded)
    if not candidates:
        return None
    for text in candidates:
        text = text.strip()
        if text == "":
            return None
        try:
            value = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):
            continue
        if nesting_depth(value) > MAX_JSON_DEPTH:
            raise ParamError(_("%(name)s is nested too deeply") % {"name": name})
        return value
    raise ParamError(_("%(name)s is not valid JSON") % {"name": name})


def _non_negative(name: str, text: str | None) -> int | None:
    if text is None or text.strip() == "":
        return None
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise ParamError(
            _("%(name)s must be a whole number of 0 or more") % {"name": name}
        )
    return int(text.strip())


def collect(request) -> tuple[dict[str, str], dict[str, bytes]]:
    """(decoded parameters, raw values): query string first, the form body over it."""
    query = request.META.get("QUERY_STRING", "")
    raw: dict[str, bytes] = raw_values(query.encode("latin-1", errors="replace"))
    params = {key: request.GET.get(key) for key in request.GET}
    if request.method == "POST":
        posted = {key: request.POST.get(key) for key in request.POST}
        params.update(posted)
        content_type = request.META.get("CONTENT_TYPE", "")
        body_raw = (raw_values(request.body)
                    if content_type.startswith("application/x-www-form-urlencoded") else {})
        for key in posted:  # the body wins: the query string's raw text must not
            raw.pop(key, None)
        raw.update(body_raw)
    return params, raw


def chain_steps(params: dict[str, str], raw: dict[str, bytes], *,
                fallback_encoding: str | None = None) -> list[tuple[str, Any]]:
    numbers = sorted(
        int(m.group(1)) for key in params if (m := _METHOD_KEY.fullmatch(key))
    )
    if numbers and numbers[-1] > MAX_STEPS:
        raise ParamError(_("At most %(n)d methods in a chain") % {"n": MAX_STEPS})
    if numbers != list(range(1, len(numbers) + 1)):
        missing = next(n for n in range(1, len(numbers) + 2) if n not in numbers)
        raise ParamError(_("method%(n)d is missing") % {"n": missing})
    steps = []
    for number in numbers:
        method = (params.get(f"method{number}") or "").strip()
        if not method:
            raise ParamError(_("method%(n)d is empty") % {"n": number})
        name = f"arg{number}"
        steps.append((method, parse_json(name, params.get(name), raw.get(name),
                                         fallback_encoding=fallback_encoding)))
    return steps


def fields_param(params: dict[str, str], raw: dict[str, bytes],
                 name: str = "fields") -> list | None:
    if not (params.get(name) or "").strip():
        return None
    # One text for fields and the system API's fieldsN (the same list, the same rules).
    refusal = ParamError(_('fields must be a JSON list of field names such as ["name"]'))
    try:
        value = parse_json(name, params.get(name), raw.get(name))
    except ParamError:
        raise refusal from None
    if not isinstance(value, list):
        raise refusal
    return value


def paging(params: dict[str, str]) -> tuple[int | None, int]:
    limit = _non_negative("limit", params.get("limit"))
    offset = _non_negative("offset", params.get("offset")) or 0
    return limit, offset
