"""Per-key rate limit: ApiKey.rate_per_minute requests in each calendar minute.

The counter is a database row per key and minute (one upsert per request), so the limit
holds across every worker and node; an in-process cache would multiply it by their number.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

_UPSERT = (
    "INSERT INTO api_ratewindow (api_key_id, minute, count) VALUES (%s, %s, 1)"
    " ON CONFLICT (api_key_id, minute) DO UPDATE SET count = api_ratewindow.count + 1"
    " RETURNING count"
)


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        api_key = getattr(request, "auth", None)
        if api_key is None or not getattr(api_key, "rate_per_minute", 0):
            return True
        now = timezone.now()
        minute = now.replace(second=0, microsecond=0)
        self.wait_seconds = 60 - now.second
        stored = connection.ops.adapt_datetimefield_value(minute)
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT, [api_key.pk, stored])
            count = cursor.fetchone()[0]
            if count == 1:  # the key's first request this minute: forget older minutes
                cursor.execute(
                    "DELETE FROM api_ratewindow WHERE api_key_id = %s AND minute < %s",
                    [api_key.pk, connection.ops.adapt_datetimefield_value(
                        minute - timedelta(minutes=5))],
                )
        return count <= api_key.rate_per_minute

    def wait(self) -> float | None:
        return getattr(self, "wait_seconds", None)
