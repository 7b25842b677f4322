"""HTTP side of the deprecated old REST API (``legacy.py`` says what it is and why it is
off by default).

- ``LegacyLoginMiddleware`` answers ``GET /admin/?username=…&password=…&api=Y`` with a
  key as the whole ``text/plain`` body (the PHP helper stores the body as ``hash_key``).
  Every other request — and this one while the API is off — goes on to the admin
  untouched, so the admin behaves exactly as without it.
- ``rest_api_view`` answers ``/rest_api/?model=…&method1=…&arg1=…&hash_key=…`` with REST
  v2's executor and whitelist in the old nested envelope ``{"result": {"result": …}}``
  (errors ``{"error_text", "error"}``, HTTP 200), as the system API's generic ORM calls.
  While the API is off it is the same 404 as an unknown URL.

Both check the source IP against network['api.allowed_ips'] first (X-Forwarded-For only
from network['api.trusted_proxies']), as every API does.
"""

from __future__ import annotations

import json
import logging

from django.contrib.auth import authenticate
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from asr_billing.core import runtime
from asr_billing.core.config import networks_contain
from asr_billing.core.errors import ApplicationError
from asr_billing.core.wire import utf8
from asr_billing.rest_v2 import chain, legacy
from asr_billing.rest_v2.executor import execute, max_results
from asr_billing.rest_v2.views import unreadable
from asr_billing.system_api import orm, render
from asr_billing.system_api.access import client_ip

logger = logging.getLogger("asr_billing.rest_v2")
# One info line per call beside the other APIs' (system_api.log); never a key or password.
call_log = logging.getLogger("asr_billing.system_api.rest_api")
TEXT_TYPE = "text/plain; charset=utf-8"
LOGIN_PATH = "/admin/"


def _one_line(value: str, limit: int = 60) -> str:
    """A client's text for a log line: bounded, control characters escaped (no forged
    lines)."""
    return json.dumps(str(value)[:limit], ensure_ascii=False)[1:-1] or "-"


def _text(text: str, status: int) -> HttpResponse:
    return HttpResponse(utf8(text), status=status, content_type=TEXT_TYPE)


def _ip_refusal(source_ip: str, snapshot) -> str | None:
    if networks_contain(snapshot.allowed_networks, source_ip):
        return None
    # REST v2's text: the same allow-list.
    return _("Access denied: %(ip)s is not in network['api.allowed_ips']") % {
        "ip": source_ip[:64]}


class LegacyLoginMiddleware:
    """Intercepts only ``/admin/?api=Y`` while network['api.legacy_rest'] is ``yes``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if (request.path == LOGIN_PATH and request.method in ("GET", "POST")
                and request.GET.get("api", "").strip().upper() == "Y"):
            snapshot = runtime.current()
            if legacy.enabled(snapshot):
                return legacy_login(request, snapshot)
        return self.get_response(request)


def legacy_login(request: HttpRequest, snapshot) -> HttpResponse:
    source_ip = client_ip(request.META, snapshot)
    refusal = _ip_refusal(source_ip, snapshot)
    record = {"user": request.GET.get("username", "")}
    if refusal is not None:
        outcome, response = "refused:ip", _text(refusal, 403)
    else:
        outcome, response = _login(request, source_ip, snapshot, record)
    call_log.info("rest_api login %s user=%s %s %s", _one_line(source_ip),
                  _one_line(record["user"]), response.status_code, outcome)
    return response


def _login(request: HttpRequest, source_ip: str, snapshot,
           record: dict) -> tuple[str, HttpResponse]:
    # The PHP helper sends the credentials in the query string; a POST may carry them in
    # a form body instead, which keeps the password out of URLs and logs.
    problem = unreadable(request) if request.method == "POST" else None
    if problem is not None:
        return "refused:unreadable", _text(problem[0], problem[1])
    form = request.POST if request.method == "POST" else {}
    username = (request.GET.get("username") or form.get("username") or "").strip()
    password = request.GET.get("password") or form.get("password") or ""
    record["user"] = username
    if not username or not password:
        return "refused:no_credentials", _text(
            _("username and password are required: /admin/?username=…&password=…&api=Y"), 400)
    now = timezone.now()
    guard, admission = legacy.login_admit(username=username, source_ip=source_ip, now=now)
    if admission.wait is not None:
        return "refused:throttled", _text(
            _("Too many failed logins; try again after %(time)s")
            % {"time": time_format(timezone.localtime(now + admission.wait), "H:i")}, 429)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active or not user.is_staff:
        return "refused:credentials", _text(_("Wrong username or password"), 403)  # counted
    guard.succeeded(admission)
    key = legacy.legacy_key_issue(user=user, source_ip=source_ip, ttl=legacy.key_ttl(snapshot),
                                  now=now)
    return "ok", _text(key, 200)


def _answer(body: dict, fmt: str, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return render.json_response(body, status=status)
    return render.xml_response(body, status=status)


@csrf_exempt  # a machine client with a key, no cookies
def rest_api_view(request: HttpRequest) -> HttpResponse:
    snapshot = runtime.current()
    if not legacy.enabled(snapshot):
        raise Http404  # exactly what an unknown URL answers
    record = {"ip": request.META.get("REMOTE_ADDR", ""), "user": "-", "methods": ""}
    try:
        response, outcome = _rest_api(request, snapshot, record)
    except Exception:
        logger.exception("rest_api call failed: ip=%s user=%s", _one_line(record["ip"]),
                         _one_line(record["user"]))
        text = _("Internal error; the details are in the server's log")
        fmt = request.GET.get("format", "").strip().lower()
        response, outcome = _answer(orm.error_body(text), fmt, 500), "exception"
    call_log.info("rest_api %s user=%s %s [%s] %s %s", _one_line(record["ip"]),
                  _one_line(record["user"]), request.method,
                  _one_line(record["methods"], 200), response.status_code, outcome)
    return response


def _rest_api(request: HttpRequest, snapshot, record: dict) -> tuple[HttpResponse, str]:
    fmt = request.GET.get("format", "").strip().lower()
    if request.method not in ("GET", "POST"):
        response = _answer(orm.error_body(_("Use GET or POST")), fmt, 405)
        response["Allow"] = "GET, POST"
        return response, "refused:verb"
    source_ip = record["ip"] = client_ip(request.META, snapshot)
    refusal = _ip_refusal(source_ip, snapshot)
    if refusal is not None:
        return _answer(orm.error_body(refusal), fmt, 403), "refused:ip"
    problem = unreadable(request)
    if problem is not None:
        return _answer(orm.error_body(problem[0]), fmt, problem[1]), "refused:unreadable"
    if request.method == "POST" and not fmt:
        fmt = request.POST.get("format", "").strip().lower()
    key = (request.GET.get("hash_key") or
           (request.POST.get("hash_key") if request.method == "POST" else "") or "").strip()
    user = legacy.legacy_key_user(key=key, source_ip=source_ip, now=timezone.now())
    if user is None:
        text = _("Access denied: hash_key is missing, wrong or expired; get one with "
                 "/admin/?username=…&password=…&api=Y")
        return _answer(orm.error_body(text), fmt, 403), "refused:key"
    record["user"] = user.get_username()
    try:
        params, raw = orm.collect(request)
        query = orm.read_query(params, raw)
        record["methods"] = ",".join(name for name, _arg in query.steps)
        ctx = chain.Context(source_ip=source_ip, http_method=request.method, request=request,
                            api=f"rest_api:{user.get_username()}", guard=legacy.OperatorGuard(user))
        result = execute(ctx, query, cap=max_results(snapshot))
    except chain.PostRequired as exc:
        response = _answer(orm.error_body(str(exc.message)), fmt, 405)
        response["Allow"] = "POST"
        return response, f"error:{exc.code}"
    except ApplicationError as exc:
        return _answer(orm.error_body(str(exc.message)), fmt), f"error:{exc.code}"
    return render.answer_response(orm.envelope(result), fmt), "ok"
