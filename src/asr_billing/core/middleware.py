"""Applies the live cfg/config to each request: language and time zone follow the file."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone, translation

from asr_billing.core import runtime


class RuntimeConfigMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        snapshot = runtime.current()
        translation.activate(snapshot.language)
        request.LANGUAGE_CODE = snapshot.language
        timezone.activate(zoneinfo.ZoneInfo(snapshot.time_zone))
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()
            timezone.deactivate()
