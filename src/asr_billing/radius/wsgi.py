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
- a body above DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413) without being read.
"""

from __future__ import annotations

import os
import time
import zoneinfo
from http import HTTPStatus

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asr_billing.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402 - after setup()
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


class RadiusRequest:
    """What radius/views.py reads from a request: META (the WSGI environ, as Django's
    HttpRequest.META is), method, path and the body."""

    __slots__ = ("META", "body", "method", "path", "path_info")

    def __init__(self, environ: dict, body: bytes):
        self.META = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.path = self.path_info = environ.get("PATH_INFO", "")
        self.body = body


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _plain(start_response, code: int, text: bytes) -> list[bytes]:
    start_response(_status_line(code), [*JSON, ("Content-Length", str(len(text)))])
    return [text]


def _content_length(environ: dict) -> int | None:
    """The declared body length; None when it is not a number."""
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return None


def application(environ: dict, start_response) -> list[bytes]:
    """WSGI entry point: FreeRADIUS's three calls, a JSON 404 for anything else."""
    path = environ.get("PATH_INFO", "")
    view = VIEWS.get(path)
    if view is None:
        return _plain(start_response, 404, b'{"error": "not found"}')
    started = time.perf_counter()
    length = _content_length(environ)
    if length is None:
        return _plain(start_response, 400, b'{"error": "Content-Length is not a number"}')
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and \
            length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _plain(start_response, 413, b'{"error": "request body too large"}')
    body = environ["wsgi.input"].read(length) if length else b""
    snapshot = runtime.current()
    translation.activate(snapshot.language)
    timezone.activate(zoneinfo.ZoneInfo(snapshot.time_zone))
    try:
        # The views answer every error they expect themselves (400, 401, 403, 405, 503).
        response = view(RadiusRequest(environ, body))
    finally:
        translation.deactivate()
        timezone.deactivate()
        close_old_connections()
    content = response.content
    headers = [(name, value) for name, value in response.items()
               if name.lower() != "content-length"]
    headers.append(("Content-Length", str(len(content))))
    start_response(_status_line(response.status_code), headers)
    observe_request(path, environ.get("REQUEST_METHOD", ""), response.status_code,
                    time.perf_counter() - started)
    return [content]


# As asr_billing.wsgi: the live config starts from the version the settings were made
# from (a worker started after cfg/config broke keeps it), and a worker forked from the
# process that imported this module must not share its database connection.
runtime.runtime()
connections.close_all()
