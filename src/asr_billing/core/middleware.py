"""Applies the live cfg/config to each request: language and time zone follow the file."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone, translation

from asr_billing.core import runtime
from asr_billing.core.config import networks_contain


class RuntimeConfigMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        snapshot = runtime.current()
        # X-Forwarded-Proto tells Django a request came over HTTPS (SECURE_PROXY_SSL_HEADER:
        # the admin's CSRF check compares the scheme): believed from a trusted proxy only.
        if "HTTP_X_FORWARDED_PROTO" in request.META and not networks_contain(
            snapshot.trusted_proxies, request.META.get("REMOTE_ADDR", "")
        ):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        translation.activate(snapshot.language)
        request.LANGUAGE_CODE = snapshot.language
        timezone.activate(zoneinfo.ZoneInfo(snapshot.time_zone))
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()
            timezone.deactivate()
