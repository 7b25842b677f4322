"""HTTP side of REST v2: ``/rest_api/v2/`` (the model list) and ``/rest_api/v2/<Model>/``.

Status codes: 200 for answers **and for application errors** — the error is in the body,
``{"call": ..., "error": "..."}``, where Carbon's clients look for it (a PHP client built
on Guzzle would throw on a 4xx before reading it); 403 when the caller is refused (source
IP, API key); 405 for an HTTP method other than GET/POST, or a GET that would write; 400
(413 when too large) for a query string or form body Django cannot read; 500
with a short text for an unexpected failure, whose traceback goes to error.log.

Access: the source IP must be in ``network['api.allowed_ips']`` (X-Forwarded-For counts
only from ``network['api.trusted_proxies']``), and when ``network['api.rest.key']`` is set
the request must carry ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from asr_billing.core import runtime
from asr_billing.core.config import networks_contain
from asr_billing.core.errors import ApplicationError
from asr_billing.core.wire import json_text, same_secret, utf8
from asr_billing.rest_v2 import chain
from asr_billing.rest_v2.describe import describe_models
from asr_billing.rest_v2.executor import Query, execute, max_results
from asr_billing.rest_v2.params import chain_steps, collect, fields_param, paging
from asr_billing.rest_v2.registry import spec_for_url
from asr_billing.rest_v2.values import short
from asr_billing.system_api.access import client_ip

logger = logging.getLogger("asr_billing.rest_v2")
# One line per call at app['django.loglevel']='info', in system_api.log beside the system
# API's (the operator's notes send people there for "API requests"). Method names only:
# arguments may hold passwords.
call_log = logging.getLogger("asr_billing.system_api.rest_v2")
JSON_TYPE = "application/json; charset=utf-8"


def _answer(call: str, *, result: Any = None, error: str | None = None,
            status: int = 200) -> HttpResponse:
    body: dict[str, Any] = {"call": call}
    if error is not None:
        body["error"] = error
    else:
        body["result"] = result
    response = HttpResponse(utf8(json_text(body)), status=status, content_type=JSON_TYPE)
    response.rest_v2_error = error  # for the call log
    return response


def _refusal(request, snapshot) -> tuple[str, str | None]:
    """(source IP, refusal text or None)."""
    source_ip = client_ip(request.META, snapshot)
    if not networks_contain(snapshot.allowed_networks, source_ip):
        return source_ip, _("Access denied: %(ip)s is not in network['api.allowed_ips']") % {
            "ip": source_ip[:64]
        }
    key = snapshot.get("network", "api.rest.key")
    if key:
        scheme, _sep, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not same_secret(given.strip(), key):
            return source_ip, _("Access denied: send the API key as Authorization: Bearer <key>")
    return source_ip, None


def _run(request, spec, source_ip: str, snapshot) -> Any:
    params, raw = collect(request)
    steps = chain_steps(params, raw)
    if not steps and spec.model_method("get_version") and "get_version" in params:
        steps = [("get_version", {})]  # Carbon's example posts get_version=True, no method1
    limit, offset = paging(params)
    query = Query(spec, steps, fields=fields_param(params, raw), limit=limit, offset=offset)
    ctx = chain.Context(source_ip=source_ip, http_method=request.method, request=request)
    return execute(ctx, query, cap=max_results(snapshot))


def unreadable(request) -> tuple[str, int] | None:
    """(refusal, HTTP status) when Django cannot read the query string or the form body.
    Read here, once: a body too large or malformed is the caller's mistake (400, 413),
    not an internal error, and what Django refused once it would refuse again later."""
    try:
        request.GET  # noqa: B018  (parsing is the point)
        if request.method == "POST":
            request.POST  # noqa: B018
    except RequestDataTooBig:
        return _("The request body is larger than %(n)d bytes") % {
            "n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}, 413
    except TooManyFieldsSent:
        return _("The request has more than %(n)d parameters") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}, 400
    except (SuspiciousOperation, BadRequest, MultiPartParserError, UnicodeError) as exc:
        return _("The request body cannot be read: %(reason)s") % {"reason": short(exc, 200)}, 400
    return None


@csrf_exempt
def model_view(request, model: str) -> HttpResponse:
    started = time.monotonic()
    request.rest_v2_unreadable = unreadable(request)
    response = _model_view(request, model)
    if call_log.isEnabledFor(logging.INFO):
        methods = "" if request.rest_v2_unreadable else ",".join(
            (request.POST.get(k) if request.method == "POST" and k in request.POST
             else request.GET.get(k, ""))[:60]
            for k in sorted({*request.GET, *request.POST}, key=_method_order)
            if re.fullmatch(r"method\d+", k)
        )
        error = getattr(response, "rest_v2_error", None)
        outcome = "ok" if error is None else f"error: {error[:200]}"
        call_log.info(
            "rest_v2 %s %s %s [%s] %s %s %.0fms",
            getattr(request, "rest_v2_ip", request.META.get("REMOTE_ADDR", ""))[:64],
            request.method, request.path[:100], methods, response.status_code, outcome,
            (time.monotonic() - started) * 1000,
        )
    return response


def _method_order(key: str) -> int:
    digits = key[6:]
    return int(digits) if key.startswith("method") and digits.isdigit() else 0


def _model_view(request, model: str) -> HttpResponse:
    call = request.path
    if request.method not in ("GET", "POST"):
        response = _answer(call, error=_("Use POST (or GET for reads)"), status=405)
        response["Allow"] = "GET, POST"
        return response
    snapshot = runtime.current()
    source_ip, refusal = _refusal(request, snapshot)
    request.rest_v2_ip = source_ip
    if refusal is not None:
        return _answer(call, error=refusal, status=403)
    if request.rest_v2_unreadable is not None:  # answered after the access checks
        error, status = request.rest_v2_unreadable
        return _answer(call, error=error, status=status)
    spec = spec_for_url(model)
    if spec is None:
        return _answer(call, error=_('Unknown model "%(model)s"; GET /rest_api/v2/ lists them')
                       % {"model": model[:64]})
    try:
        result = _run(request, spec, source_ip, snapshot)
    except chain.PostRequired as exc:
        response = _answer(call, error=str(exc.message), status=405)
        response["Allow"] = "POST"
        return response
    except ApplicationError as exc:
        return _answer(call, error=str(exc.message))
    except Exception:
        logger.exception("rest_v2 %s failed", call)
        return _answer(call, error=_("Internal error; the details are in the server's log"),
                       status=500)
    return _answer(call, result=result)


@csrf_exempt
def index_view(request) -> HttpResponse:
    call = request.path
    if request.method not in ("GET", "HEAD"):
        response = _answer(call, error=_("Use GET"), status=405)
        response["Allow"] = "GET"
        return response
    _source_ip, refusal = _refusal(request, runtime.current())
    if refusal is not None:
        return _answer(call, error=refusal, status=403)
    return _answer(call, result=describe_models())
