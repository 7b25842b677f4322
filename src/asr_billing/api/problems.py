"""Errors of /api/v1/ as RFC 9457 problem details (``application/problem+json``).

Every refusal has ``type`` (a stable URI naming the kind), ``title``, ``status``,
``detail`` and, for bad input, ``errors``: one ``{"field": …, "message": …}`` per field
that failed (``field`` is the JSON pointer-like dotted name, empty for the whole body).
The services' domain errors (core/errors.py) map to 400 / 404 / 409; a database that is
away to 503; anything else to a 500 whose detail says nothing of the code.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from asr_billing.core.errors import ApplicationError, Conflict, InvalidInput, NotFound

logger = logging.getLogger("asr_billing.api")

PROBLEM_TYPE_BASE = "https://asr-billing.org/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status_code: int, kind: str, title: str, detail: str = "", errors=None,
            headers=None) -> Response:
    body = {"type": PROBLEM_TYPE_BASE + kind, "title": str(title), "status": status_code,
            "detail": str(detail or title)}
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers,
                    content_type=PROBLEM_CONTENT_TYPE)


def _field_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested ValidationError detail as a flat list of (field, message)."""
    found = []
    if isinstance(detail, dict):
        for name, value in detail.items():
            field = "" if name == "non_field_errors" else str(name)
            found += _field_errors(value, f"{prefix}.{field}".strip(".") if field else prefix)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and value:
                found += _field_errors(value, f"{prefix}.{index}".strip(".")
                                       if isinstance(value, dict) else prefix)
            elif value:
                found += _field_errors(value, prefix)
    else:
        found.append({"field": prefix, "message": str(detail),
                      "code": getattr(detail, "code", "invalid")})
    return found


def exception_handler(exc, context) -> Response:
    if isinstance(exc, Http404):
        return problem(404, "not-found", _("Not found"), _("No such object"))
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        detail = "; ".join(
            (f"{e['field']}: {e['message']}" if e["field"] else e["message"]).rstrip(".")
            for e in errors
        )
        return problem(400, "invalid", _("Invalid input"), detail, errors)
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 0) or 1
        return problem(429, "rate-limited", _("Too many requests"),
                       _("The key's rate limit is reached; retry in %(s)d s") % {"s": wait},
                       headers={"Retry-After": str(wait)})
    if isinstance(exc, exceptions.APIException):
        kind = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                405: "method-not-allowed", 406: "not-acceptable",
                415: "unsupported-media-type"}.get(exc.status_code, "error")
        headers = {}
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="asr-billing"'
            exc.status_code = status.HTTP_401_UNAUTHORIZED
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response = problem(exc.status_code, kind, _title(exc.status_code), str(exc.detail),
                           headers=headers)
        response.data["code"] = code
        return response
    if isinstance(exc, ApplicationError):
        return domain_problem(exc)
    if isinstance(exc, OperationalError | DatabaseError) and _is_outage(exc):
        logger.error("API: database unavailable: %s", exc)
        return problem(503, "unavailable", _("Service unavailable"),
                       _("The database is unavailable; retry later"),
                       headers={"Retry-After": "5"})
    logger.exception("API: unexpected error in %s", context.get("view").__class__.__name__)
    return problem(500, "internal", _("Internal error"),
                   _("The server failed to answer; the error is logged"))


def domain_problem(exc: ApplicationError) -> Response:
    field = exc.extra.get("field", "") if isinstance(exc.extra, dict) else ""
    if isinstance(exc, NotFound):
        status_code, kind = 404, "not-found"
    elif isinstance(exc, Conflict):
        status_code, kind = 409, "conflict"
    elif isinstance(exc, InvalidInput):
        status_code, kind = 400, "invalid"
    else:
        status_code, kind = 400, "refused"
    errors = [{"field": field, "message": exc.message, "code": exc.code}]
    response = problem(status_code, kind, _title(status_code), exc.message, errors)
    response.data["code"] = exc.code
    return response


def _is_outage(exc) -> bool:
    return isinstance(exc, OperationalError)


def _title(status_code: int) -> str:
    return {
        400: _("Invalid input"), 401: _("Not authenticated"), 403: _("Forbidden"),
        404: _("Not found"), 405: _("Method not allowed"), 406: _("Not acceptable"),
        409: _("Conflict"), 415: _("Unsupported media type"), 429: _("Too many requests"),
    }.get(status_code, _("Error"))
