"""Generic ORM calls through ``/system_api/``: ``method1=objects.filter`` (``objects.get``,
``objects.exclude``, ``objects.all``, ``objects.count``; chained: ``method2=count``,
``order_by``, ``first``, …) on a ``model`` REST v2 declares, answered in the old API's
nested envelope.

Clients (reference carbon-api.md §4.3, §4.5):

- Carbon's 1C modules look a contractor or a document up by its 1C code:
  ``model=Abonents&method1=objects.filter&arg1={"code1c":"…"}`` and
  ``model=FinanceOperations&…&fields1=["op_id"]`` under ``context=api_1c``, and read
  ``data["result"]["result"]`` (the list); an error is a top-level ``error_text``.
- Carbon's PHP helpers (billing_api_tools, api_main.php) read every answer with
  ``get_field()``: ``$res['result']['result'][0]['fields'][$field]`` and
  ``$res['result']['result'][0]['pk']``.

So a success is ``{"result": {"result": <REST v2's result>}}``: the objects are REST v2's
``{"pk", "model", "fields"}``, from the same whitelist, lookups and ``fields`` rules, run
by the same executor (``rest_v2.executor``). An error is ``{"error_text": …, "error": …}``
with HTTP 200, like every api_1c error. Unlike Carbon's old API, intermediate results of
a chain are not returned (which keys held them is not public).

Only reads: a method that changes data (``save``, ``objects.create``, ``add_payment``,
``set_password``, …) is refused — writes go through REST v2. Only the contexts in
``ORM_CONTEXTS`` may call these: ``base`` (an integration's general-purpose context) and
``api_1c`` (where the 1C modules send them). Not ``web``: a cabinet may call without a
password, and a cabinet must not read other subscribers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError
from asr_billing.core.runtime import Snapshot
from asr_billing.rest_v2 import chain
from asr_billing.rest_v2.executor import Query, execute, max_results
from asr_billing.rest_v2.params import ParamError, chain_steps, fields_param, paging, raw_values
from asr_billing.rest_v2.registry import spec_for_url
from asr_billing.system_api import render
from asr_billing.system_api.params import ONE_C_ENCODING

ORM_CONTEXTS = frozenset({"base", "api_1c"})
PREFIX = "objects."
# Where an un-encoded argN ends: at "&" followed by a parameter the system API knows.
_KNOWN = re.compile(
    rb"(?:^|&)(model|method\d+|arg\d+|context|psw|format|fields\d*|suid|hash_key|limit|offset)="
)
_FIELDS_KEY = re.compile(r"fields\d+")


def is_orm(method: str) -> bool:
    return method.startswith(PREFIX)


def envelope(result: Any) -> dict:
    """The old API's answer: the clients read ``result.result``."""
    return {"result": {"result": result}}


def error_body(text: str) -> dict:
    # error_text: the 1C modules stop on it; error: what every other client tests.
    return {"error_text": text, "error": text}


def collect(request) -> tuple[dict[str, str], dict[str, bytes]]:
    """(parameters, raw still-encoded values). The query string wins over the body, as
    everywhere in the system API; a JSON object body is read like a form."""
    params = {key: request.GET.get(key) for key in request.GET}
    raw = raw_values(request.META.get("QUERY_STRING", "").encode("iso-8859-1", "replace"),
                     _KNOWN)
    if request.method != "POST":
        return params, raw
    if (request.content_type or "") == "application/json":
        try:
            data = json.loads(request.body or b"{}", parse_float=Decimal)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise ParamError(_("The body is not a JSON object"))
        body = {
            key: value if isinstance(value, str) else json.dumps(value, default=str)
            for key, value in data.items() if value is not None
        }
        body_raw: dict[str, bytes] = {}
    else:
        body = {key: request.POST.get(key) for key in request.POST}
        body_raw = (raw_values(request.body, _KNOWN)
                    if request.content_type == "application/x-www-form-urlencoded" else {})
    for key, value in body.items():
        if key not in params:
            params[key] = value
            if key in body_raw:
                raw[key] = body_raw[key]
    return params, raw


def _fields(params: dict[str, str], raw: dict[str, bytes], last: int) -> list | None:
    """``fields<last>`` (the old API numbers them; 1C sends ``fields1``) or ``fields``."""
    name = f"fields{last}"
    others = sorted(k for k in params if _FIELDS_KEY.fullmatch(k) and k != name)
    if others:
        raise ParamError(
            _("%(given)s: only the last method's answer is returned; name its fields as "
              "%(name)s") % {"given": others[0], "name": name}
        )
    return fields_param(params, raw, name if name in params else "fields")


def read_query(params: dict[str, str], raw: dict[str, bytes]) -> Query:
    model = (params.get("model") or "").strip()
    if not model:
        raise ParamError(_("model is required for %(method)s calls, e.g. model=Abonents")
                         % {"method": "objects.*"})
    spec = spec_for_url(model)
    if spec is None:
        raise ParamError(_('Unknown model "%(model)s"; GET /rest_api/v2/ lists them')
                         % {"model": model[:64]})
    steps = chain_steps(params, raw, fallback_encoding=ONE_C_ENCODING)
    limit, offset = paging(params)
    return Query(spec, steps, fields=_fields(params, raw, len(steps)), limit=limit,
                 offset=offset)


def respond(request, *, context: str, source_ip: str, snapshot: Snapshot, fmt: str,
            record: dict, redact: Callable[[Any], Any]) -> HttpResponse:
    """Answer a ``method1=objects.*`` call whose access checks (IP, context, psw) passed."""
    method = record.get("method", "")
    if context not in ORM_CONTEXTS:
        record["outcome"] = "refused:method"
        text = _("Method %(m)s is not available in context=%(c)s") % {"m": method,
                                                                         "c": context}
        if fmt == "json":
            return render.json_response({"error": text}, status=403)
        return render.text_response(text, status=403)
    try:
        params, raw = collect(request)
        query = read_query(params, raw)
        record["method"] = ",".join(name for name, _arg in query.steps)[:200]
        record["args"] = redact({f"arg{n}": arg for n, (_name, arg) in
                                 enumerate(query.steps, start=1) if arg is not None})
        ctx = chain.Context(source_ip=source_ip, http_method=request.method, request=request,
                            api=f"system_api:{context}", writes=False)
        result = execute(ctx, query, cap=max_results(snapshot))
    except ApplicationError as exc:
        record["outcome"] = f"error:{exc.code}"
        body = error_body(str(exc.message))
        return render.json_response(body) if fmt == "json" else render.xml_response(body)
    record["outcome"] = "ok"
    return render.answer_response(envelope(result), fmt)
