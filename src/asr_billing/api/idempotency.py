"""``Idempotency-Key`` on POST: a retry gets the first answer; the key with another request
is refused.

The first request inserts its row and runs in one transaction with it, so the row and the
POST's own changes are kept together or not at all. A second request with the same key
waits on the unique index until the first one commits, then replays its answer (marked
``Idempotent-Replayed: true``). Answers ≥ 500 are not kept: the retry runs again. Rows are
kept api['v1.idempotency_hours'] hours.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.api.models import IdempotentRequest
from asr_billing.api.problems import problem
from asr_billing.core import runtime

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(request._request.body)
    return digest.hexdigest()


def _replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status,
                            content_type=record.content_type or None)
    response["Idempotent-Replayed"] = "true"
    if record.location:
        response["Location"] = record.location
    return response


def _hours() -> int:
    try:
        return int(runtime.current().get("api", "v1.idempotency_hours") or 24)
    except ValueError:
        return 24


def idempotent(view, handler, request, *args, **kwargs):
    """Run ``handler`` (the view's POST) under the request's Idempotency-Key."""
    key = request.META.get(HEADER, "")
    if not KEY_RE.fullmatch(key):
        return problem(400, "invalid", _("Invalid input"),
                       _("Idempotency-Key must be 1 to 255 visible ASCII characters"),
                       [{"field": "Idempotency-Key", "message": _("1 to 255 visible ASCII "
                                                                  "characters"),
                         "code": "invalid"}])
    api_key = request.auth
    mark = fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        IdempotentRequest.objects.filter(
            api_key=api_key, created_at__lt=now - timedelta(hours=_hours())
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    api_key=api_key, key=key, fingerprint=mark, created_at=now
                )
        except IntegrityError:
            record = None
        if record is None:
            earlier = IdempotentRequest.objects.filter(api_key=api_key, key=key).first()
            if earlier is None or earlier.status == 0:  # pragma: no cover - a race lost
                return problem(409, "idempotency-in-progress", _("Conflict"),
                               _("A request with this Idempotency-Key is being processed"))
            if earlier.fingerprint != mark:
                return problem(422, "idempotency-key-reused", _("Idempotency-Key reused"),
                               _("This Idempotency-Key was used for another request"))
            return _replay(earlier)
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:  # the view's own refusals become answers to keep
            response = view.handle_exception(exc)
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        response = view.finalize_response(request, response, *args, **kwargs)
        response.render()
        record.status = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = response.content
        record.location = response.get("Location", "")
        record.save(update_fields=["status", "content_type", "body", "location"])
    return response
