"""The RADIUS-only WSGI application that ``asr-billing radius serve`` runs.

FreeRADIUS calls the billing once per Access-Request and once per Accounting-Request —
thousands a second on a large network. Behind ``asr-billing serve`` each call still pays
for Django's request cycle (a WSGIRequest, the request_started / request_finished
signals, the response's close machinery) and for gunicorn's Python, about three quarters
of the CPU of a call (docs/performance.md, RADIUS). This application serves only the
three rlm_rest endpoints: it reads the body from the WSGI environ, runs the same views as
the full server (radius/views.py: the guard, the wire, the services in network/) and writes
their answer back; any other path is a 404. Django is set up once for the ORM, the
translations and the live config; no middleware, URL resolver or request object is made.

What Django's handler did that is still done here, each for its reason:

- the live config's language and time zone are activated per call (Reply-Message texts,
  the event times of accounting);
- the database connections are checked after each call (``close_old_connections``): a
  connection that failed — the database restarted — is dropped, so the next call opens a
  new one instead of answering 503 until the process restarts; one older than
  CONN_MAX_AGE is closed as Django would;
- the request is counted for /metrics (core/metrics.observe_request);
- the body is read only when the view asks for it, after the caller's address and token
  are checked (a stranger cannot hold a worker thread by trickling a large body), and
  one above DATA_UPLOAD_MAX_MEMORY_SIZE is refused without being read (the views answer
  400, as under ``serve``);
- an error no view expects is logged to error.log as Django logs it ("Internal Server
  Error") and answered with a JSON 500, counted like any answer.
"""

from __future__ import annotations

import logging
import os
import time
import zoneinfo
from http import HTTPStatus

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asr_billing.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402 - after setup()
from django.core.exceptions import RequestDataTooBig  # noqa: E402
from django.db import close_old_connections, connections  # noqa: E402
from django.utils import timezone, translation  # noqa: E402

from asr_billing.core import runtime  # noqa: E402
from asr_billing.core.metrics import observe_request  # noqa: E402
from asr_billing.radius import views  # noqa: E402

VIEWS = {
    "/radius/authorize/": views.authorize,
    "/radius/post-auth/": views.post_auth,
    "/radius/accounting/": views.accounting,
}
JSON = [("Content-Type", "application/json")]
request_logger = logging.getLogger("django.request")  # error.log, as under serve


class RadiusRequest:
    """What radius/views.py reads from a request: META (the WSGI environ, as Django's
    HttpRequest.META is), method, path and the body — read from the input on first use,
    as Django's is, so the views check the caller before a byte of it is read."""

    __slots__ = ("META", "_body", "method", "path", "path_info")

    def __init__(self, environ: dict):
        self.META = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.path = self.path_info = environ.get("PATH_INFO", "")
        self._body: bytes | None = None

    @property
    def body(self) -> bytes:
        if self._body is None:
            length = _content_length(self.META)
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                raise RequestDataTooBig("Request body exceeded "
                                        "settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            self._body = self.META["wsgi.input"].read(length) if length else b""
        return self._body


def _content_length(environ: dict) -> int:
    """The declared body length; 0 when absent or not a number (as Django reads it)."""
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _answer(start_response, code: int, headers: list[tuple[str, str]],
            content: bytes) -> list[bytes]:
    start_response(_status_line(code), [*headers, ("Content-Length", str(len(content)))])
    return [content]


def _respond(view, request: RadiusRequest) -> tuple[int, list[tuple[str, str]], bytes]:
    """The view's answer as (status, headers, body); a JSON 500 for an error it did not
    expect, logged with its traceback as Django's handler logs one."""
    snapshot = runtime.current()
    try:
        translation.activate(snapshot.language)
        timezone.activate(zoneinfo.ZoneInfo(snapshot.time_zone))
        # The views answer every error they expect themselves (400, 401, 403, 405, 503).
        response = view(request)
    except Exception:
        request_logger.exception("Internal Server Error: %s", request.path)
        return 500, JSON, b'{"error": "internal error"}'
    finally:
        translation.deactivate()
        timezone.deactivate()
        close_old_connections()
    headers = [(name, value) for name, value in response.items()
               if name.lower() != "content-length"]
    return response.status_code, headers, response.content


def application(environ: dict, start_response) -> list[bytes]:
    """WSGI entry point: FreeRADIUS's three calls, a JSON 404 for anything else."""
    path = environ.get("PATH_INFO", "")
    view = VIEWS.get(path)
    if view is None:
        return _answer(start_response, 404, JSON, b'{"error": "not found"}')
    started = time.perf_counter()
    status, headers, content = _respond(view, RadiusRequest(environ))
    observe_request(path, environ.get("REQUEST_METHOD", ""), status,
                    time.perf_counter() - started)
    return _answer(start_response, status, headers, content)


# As asr_billing.wsgi: the live config starts from the version the settings were made
# from (a worker started after cfg/config broke keeps it), and a worker forked from the
# process that imported this module must not share its database connection.
runtime.runtime()
connections.close_all()
