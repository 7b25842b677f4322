"""The ``/system_api/`` endpoint: read the request, check access, call the function, answer.

Status codes: 200 for answers and for application errors (the error is in the body, where
each client looks for it); 403 for a failed access check; 400/404/405 for a request that
names no method, an unknown one or another HTTP verb; 500 for an unexpected failure —
with a short text only, the traceback goes to error.log. Every call is logged at info
level to system_api.log, secrets redacted.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from asr_billing.core import runtime
from asr_billing.core.errors import ApplicationError
from asr_billing.core.replica import replica_reads
from asr_billing.core.wire import nesting_depth, storable_text
from asr_billing.system_api import orm, render
from asr_billing.system_api.access import Refusal, check_access, check_ip, client_ip
from asr_billing.system_api.params import (
    MAX_DEPTH,
    PARAM_NAMES,
    Args,
    ArgumentError,
    Call,
    checked_arg1,
    parse_arg1,
    parse_fields,
    raw_arg1,
)
from asr_billing.system_api.registry import lookup, registered

logger = logging.getLogger("asr_billing.system_api")

# Argument names whose values never reach a log line: context and login passwords,
# cabinet session ids (a bearer credential) and card data.
SECRET_KEYS = frozenset({
    "psw", "passwd", "password", "user_password", "psw1", "psw2", "new_password",
    "suid", "session_id", "token", "secret", "hash_key",
    "card", "card_key", "card_number", "pan", "cvv", "cvc", "cvv2", "series_no",
})
MAX_LOGGED_ARGS = 500  # characters of arg1 in a log line


class BadRequest(Exception):
    pass


def _collect(request) -> tuple[dict[str, str], bytes | None, dict | None]:
    """(params, raw arg1 bytes, arg1 already parsed from a JSON body)."""
    params: dict[str, str] = {}
    raw = None
    body_arg1 = None
    try:
        query = request.GET
        for name in PARAM_NAMES:
            if name in query:
                params[name] = query.get(name, "")
        # WSGI passes the query string as latin-1 text of the raw bytes.
        raw = raw_arg1(request.META.get("QUERY_STRING", "").encode("iso-8859-1", "replace"))
        if request.method == "POST":
            content_type = request.content_type or ""
            if content_type == "application/json":
                body_arg1 = _json_body(request.body, params)
            else:
                if content_type == "application/x-www-form-urlencoded" and "arg1" not in params:
                    raw = raw_arg1(request.body)
                form = request.POST
                for name in PARAM_NAMES:
                    if name in form and name not in params:
                        params[name] = form.get(name, "")
    except (SuspiciousOperation, MultiPartParserError, UnicodeError) as exc:
        raise BadRequest(str(exc)) from None
    return {k: storable_text(v) for k, v in params.items()}, raw, body_arg1


def _json_body(body: bytes, params: dict) -> dict | None:
    """A JSON body {"method1": ..., "arg1": {...}, ...}: some HTTP libraries post JSON."""
    try:
        # Decimals as in arg1 from the URL (money is never a float); a body nested deeper
        # than the parser's recursion limit is as unreadable as a broken one.
        data = json.loads(body or b"{}", parse_float=Decimal)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body is not a JSON object")
    arg1 = None
    for name in PARAM_NAMES:
        if name in data and name not in params:
            value = data[name]
            if name == "arg1" and isinstance(value, dict):
                arg1 = value
            elif value is not None:
                if nesting_depth(value) > MAX_DEPTH:  # json.dumps would recurse as deep
                    raise BadRequest(f"{name} is nested too deeply")
                params[name] = (
                    value if isinstance(value, str)
                    else str(value) if isinstance(value, Decimal)
                    else json.dumps(value, default=str)
                )
    return arg1


def _redacted(value, depth: int = 0):
    if depth > 20:
        return "…"
    if isinstance(value, dict):
        return {
            k: ("***" if str(k).lower() in SECRET_KEYS else _redacted(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v, depth + 1) for v in value]
    return value


def _log_text(value: str, limit: int = 100) -> str:
    """One line, no control characters (no log injection), bounded."""
    text = json.dumps(str(value)[:limit], ensure_ascii=False)[1:-1]
    return text or "-"


def _refusal(text: str, fmt: str, status: int = 403) -> HttpResponse:
    """The whole answer is the text (no newline: "Context=x is not defined" exactly)."""
    if fmt == "json":
        return render.json_response({"error": text}, status=status)
    return render.text_response(text, status=status)


def _application_error(entry, exc: ApplicationError, fmt: str) -> HttpResponse:
    body = entry.errors(exc)
    if fmt == "json":
        return render.json_response(body)
    if entry.plain_errors == "text" and fmt in ("", "text"):
        # A NAS script reads every 200 line as a login; an error must not look like a list.
        return render.text_response(f"error: {exc.message}\n", status=400)
    return render.xml_response(body)


def _unknown_method(method: str, context: str) -> str:
    """"Unknown method: <name>" and what the caller's context does have (it passed the
    access checks): a context that is enabled but has little or nothing of its own
    (webcash, cabinet, base) says so instead of leaving the caller guessing."""
    text = _("Unknown method: %(m)s") % {"m": method[:100]}
    names = sorted(name for name, entry in registered().items() if entry.context == context)
    if context in orm.ORM_CONTEXTS:
        names.append("objects.*")
    if not names:
        return text + ". " + _("Context=%(c)s has no methods") % {"c": context}
    return text + ". " + _("Methods of context=%(c)s: %(names)s") % {
        "c": context, "names": ", ".join(names)}


def _usage() -> str:
    """For a person who opens /system_api/ by hand; no client parses it."""
    return "\n".join([
        _("asr-billing system API (compatible with Carbon Billing 5)"),
        _("Usage: /system_api/?context=CONTEXT&psw=PASSWORD&method1=METHOD&arg1={JSON}"
          "[&format=json]"),
        _("Example: /system_api/?context=collector&psw=...&method1="
          "collector_manager.users_negbal&arg1={\"nas_ip\":\"10.0.0.1\"}"),
        _("Contexts, their passwords and the allowed IPs are network['api.*'] in cfg/config; "
          "the methods are in docs/system-api.md"),
    ]) + "\n"


def _dispatch(request, snapshot, record: dict) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        record["outcome"] = "refused:verb"
        response = render.text_response("Only GET and POST", status=405)
        response["Allow"] = "GET, POST"
        return response
    source_ip = client_ip(request.META, snapshot)
    record["ip"] = source_ip
    try:
        params, raw, body_arg1 = _collect(request)
    except BadRequest as exc:
        try:
            check_ip(source_ip, snapshot)  # the allow-list answers first, whatever the body
        except Refusal as refusal:
            record["outcome"] = f"refused:{refusal.reason}"
            return _refusal(refusal.text, "")
        record["outcome"] = "refused:bad_request"
        return render.text_response(f"Bad request: {exc}", status=400)
    if not params and body_arg1 is None:
        # /system_api/ opened by hand (a browser, curl with no query): how to call it,
        # instead of Carbon's "Context= is not defined". Behind the allow-list as always.
        try:
            check_ip(source_ip, snapshot)
        except Refusal as refusal:
            record["outcome"] = f"refused:{refusal.reason}"
            return _refusal(refusal.text, "")
        record["outcome"] = "usage"
        return render.text_response(_usage(), status=400)
    fmt = params.get("format", "").strip().lower()
    record["format"] = fmt
    context = params.get("context", "").strip()
    method = params.get("method1", "").strip()
    record.update(context=context, method=method)
    try:
        check_access(source_ip=source_ip, context=context, psw=params.get("psw"),
                     snapshot=snapshot)
    except Refusal as refusal:
        record["outcome"] = f"refused:{refusal.reason}"
        return _refusal(refusal.text, fmt)
    if not method:
        record["outcome"] = "refused:no_method"
        return _refusal(_("method1 is required, e.g. method1=collector_manager.users_negbal"),
                        fmt, status=400)
    entry = lookup(method)
    if entry is None and orm.is_orm(method):
        return orm.respond(request, context=context, source_ip=source_ip, snapshot=snapshot,
                           fmt=fmt, record=record, redact=_redacted)
    if entry is None:
        record["outcome"] = "refused:unknown_method"
        return _refusal(_unknown_method(method, context), fmt, status=404)
    if entry.context != context:
        record["outcome"] = "refused:method"
        return _refusal(
            _("Method %(m)s is not available in context=%(c)s") % {"m": method, "c": context},
            fmt,
        )
    try:
        if body_arg1 is not None:
            args = checked_arg1(body_arg1)
        else:
            args = parse_arg1(params.get("arg1"), raw)
    except ArgumentError as exc:
        record["outcome"] = f"error:{exc.code}"
        record["args"] = "<unreadable>"
        return _application_error(entry, exc, fmt)
    suid = params.get("suid", "").strip()
    if suid and not args.get("suid"):
        # The old PHP cabinet helper sends suid as a top-level parameter (reference §2).
        args = {**args, "suid": suid}
    record["args"] = _redacted(args)
    call = Call(
        method=method,
        context=context,
        args=Args(args),
        source_ip=source_ip,
        model=params.get("model", "").strip(),
        fields=parse_fields(params.get("fields1")),
        suid=str(args.get("suid") or "").strip(),
    )
    try:
        if entry.writes:
            with transaction.atomic():  # an error raised half-way rolls everything back
                result = entry.func(call)
        elif entry.replica:
            # The lists are lazy: they are read while the answer is rendered.
            with replica_reads():
                result = entry.func(call)
                record["outcome"] = "ok"
                return render.answer_response(render.project(result, call.fields), fmt)
        else:
            result = entry.func(call)
    except ApplicationError as exc:
        record["outcome"] = f"error:{exc.code}"
        return _application_error(entry, exc, fmt)
    record["outcome"] = "ok"
    return render.answer_response(render.project(result, call.fields), fmt)


def _log_call(record: dict, status: int, started: float) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    args = record.get("args")
    if isinstance(args, dict):
        args_text = json.dumps(args, ensure_ascii=False, default=str)
    else:
        args_text = args or "-"
    if len(args_text) > MAX_LOGGED_ARGS:
        args_text = args_text[: MAX_LOGGED_ARGS - 1] + "…"
    logger.info(
        "ip=%s context=%s method=%s status=%d outcome=%s ms=%.1f args=%s",
        _log_text(record.get("ip", "")),
        _log_text(record.get("context", "")),
        _log_text(record.get("method", "")),
        status,
        record.get("outcome", "?"),
        (time.monotonic() - started) * 1000,
        args_text,  # JSON: one line, control characters already escaped
    )


@csrf_exempt  # machine clients (NAS scripts, 1C, terminals) have no CSRF token
def system_api(request) -> HttpResponse:
    started = time.monotonic()
    snapshot = runtime.current()  # edits to cfg/config apply to the next request
    record: dict = {"ip": request.META.get("REMOTE_ADDR", ""), "outcome": "?"}
    try:
        response = _dispatch(request, snapshot, record)
    except Exception:
        record["outcome"] = "exception"
        logger.exception(
            "system API call failed: ip=%s context=%s method=%s",
            _log_text(record.get("ip", "")),
            _log_text(record.get("context", "")),
            _log_text(record.get("method", "")),
        )
        text = "Internal server error"
        response = (
            render.json_response({"error": text}, status=500)
            if record.get("format") == "json"
            else render.text_response(text, status=500)
        )
    _log_call(record, response.status_code, started)
    return response
