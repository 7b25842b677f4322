"""The WSGI handler ``asr-billing serve`` runs: FreeRADIUS's calls skip the middleware.

FreeRADIUS asks once per Access-Request and once per Accounting-Request — thousands a
second on a large network — and none of the middleware does anything for it: no session,
no CSRF (it is exempt), no user, no messages, no static files, no security headers a
browser would read. Walking the stack cost about a third of the CPU of an authorize in a
gunicorn worker (docs/performance.md, RADIUS), so /radius/ paths go straight to their view
with only what RuntimeConfigMiddleware does (the live config's language and time zone).
Every other path is Django's handler unchanged. The request_started / request_finished
signals (database connection upkeep) still fire: they belong to the WSGI call, not to
the middleware.
"""

from __future__ import annotations

import time
import zoneinfo

from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone, translation

from asr_billing.core import runtime
from asr_billing.core.metrics import observe_request


class RadiusFirstHandler(WSGIHandler):
    def __init__(self):
        super().__init__()
        from asr_billing.radius import views

        # Exactly the paths radius/urls.py routes; anything else (a missing slash, a
        # typo) takes Django's way and its 404 / redirect.
        self.radius_views = {
            "/radius/authorize/": views.authorize,
            "/radius/post-auth/": views.post_auth,
            "/radius/accounting/": views.accounting,
        }

    def get_response(self, request):
        view = self.radius_views.get(request.path_info)
        if view is None:
            return super().get_response(request)
        started = time.perf_counter()
        snapshot = runtime.current()
        translation.activate(snapshot.language)
        request.LANGUAGE_CODE = snapshot.language
        timezone.activate(zoneinfo.ZoneInfo(snapshot.time_zone))
        try:
            response = view(request)
        except Exception as exc:
            response = response_for_exception(request, exc)
        finally:
            translation.deactivate()
            timezone.deactivate()
        response._resource_closers.append(request.close)
        # Counted here: the metrics middleware is skipped with the rest.
        observe_request(request.path, request.method, response.status_code,
                        time.perf_counter() - started)
        return response
