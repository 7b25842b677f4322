"""HMAC-signed requests: the key's signing secret vouches for the exact request, and a
captured request cannot be sent again.

Headers (all three):

- ``X-Signature-Timestamp``: Unix time in seconds; refused beyond ±SKEW seconds of ours;
- ``X-Signature-Nonce``: 16 to 64 characters [A-Za-z0-9_-], never used before by this key
  (kept while its timestamp could still pass, api_signaturenonce's unique index decides);
- ``X-Signature``: hex HMAC-SHA256 with the signing secret over
  ``timestamp \\n nonce \\n METHOD \\n path?query \\n hex SHA-256 of the body``.

A key created with a signing secret must sign every request; any key whose request carries
X-Signature has it checked (a wrong one is never ignored).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

SIGNATURE_HEADER = "HTTP_X_SIGNATURE"
TIMESTAMP_HEADER = "HTTP_X_SIGNATURE_TIMESTAMP"
NONCE_HEADER = "HTTP_X_SIGNATURE_NONCE"
SKEW = 300  # seconds a timestamp may differ from our clock
NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def string_to_sign(*, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    """What is signed; ``path`` is the path with its query string as sent."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n{digest}".encode()


def sign(secret: str, **parts) -> str:
    return hmac.new(secret.encode(), string_to_sign(**parts), hashlib.sha256).hexdigest()


def _refuse(message: str, code: str):
    raise exceptions.AuthenticationFailed(message, code=code)


def check_signature(request, api_key) -> None:
    from asr_billing.api.models import SignatureNonce
    from asr_billing.network.crypto import decrypt_secret

    meta = request.META
    signature = meta.get(SIGNATURE_HEADER, "").strip().lower()
    timestamp = meta.get(TIMESTAMP_HEADER, "").strip()
    nonce = meta.get(NONCE_HEADER, "").strip()
    if not signature or not timestamp or not nonce:
        _refuse(_("This API key must sign its requests: X-Signature, X-Signature-Timestamp "
                  "and X-Signature-Nonce are required"), "signature_missing")
    if not api_key.signing_secret_enc:
        _refuse(_("This API key has no signing secret"), "signature_unexpected")
    if not timestamp.isdigit() or len(timestamp) > 12:
        _refuse(_("X-Signature-Timestamp must be Unix time in seconds"), "signature_timestamp")
    if abs(time.time() - int(timestamp)) > SKEW:
        _refuse(_("The signature is stale: X-Signature-Timestamp is more than %(s)d seconds "
                  "from the server's clock") % {"s": SKEW}, "signature_stale")
    if not NONCE_RE.fullmatch(nonce):
        _refuse(_("X-Signature-Nonce must be 16 to 64 characters: letters, digits, _ and -"),
                "signature_nonce")
    # The body as received (DRF has not parsed it yet; request.body keeps the bytes).
    body = request._request.body if hasattr(request, "_request") else request.body
    expected = sign(
        decrypt_secret(api_key.signing_secret_enc), timestamp=timestamp, nonce=nonce,
        method=request.method, path=request.get_full_path(), body=body,
    )
    if not hmac.compare_digest(expected, signature):
        _refuse(_("The request signature does not match"), "signature_bad")
    now = timezone.now()
    try:
        with transaction.atomic():
            SignatureNonce.objects.create(api_key=api_key, nonce=nonce, created_at=now)
    except IntegrityError:
        _refuse(_("This signed request was sent before (the nonce is used)"), "signature_replay")
    # Nonces older than any timestamp that could still pass are no longer needed.
    SignatureNonce.objects.filter(
        api_key=api_key, created_at__lt=now - timedelta(seconds=3 * SKEW)
    ).delete()
