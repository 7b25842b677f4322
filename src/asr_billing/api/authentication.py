"""Who calls /api/v1/: an API key in ``Authorization: Bearer asr_…`` (or ``X-API-Key``).

Checked on every request, nothing cached: a revoked key is refused by the next request.
Then the key's own allow-list (the caller's address as every API sees it: X-Forwarded-For
only from network['api.trusted_proxies']) and, for a key that must sign or a request that
carries a signature, the HMAC signature (api/signing.py).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from asr_billing.api.keys import apikey_for, apikey_touch
from asr_billing.api.models import ApiKey
from asr_billing.api.signing import SIGNATURE_HEADER, check_signature
from asr_billing.core import runtime
from asr_billing.core.config import networks_contain, parse_networks
from asr_billing.system_api.access import client_ip


class ApiKeyUser:
    """request.user of an API call: the key, and the actor its writes are audited as."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        # Audit rows and operations name the key: "api:<prefix>:<name>".
        self.actor = f"api:{api_key.prefix}:{api_key.name}"[:100]

    def get_username(self) -> str:
        return self.actor

    def __str__(self) -> str:
        return self.actor


def presented_key(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip()
    value = request.META.get("HTTP_X_API_KEY", "")
    return value.strip() or None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        key = presented_key(request)
        if key is None:
            if request.META.get("HTTP_AUTHORIZATION"):
                raise exceptions.AuthenticationFailed(
                    _("Use Authorization: Bearer <API key>"), code="bad_scheme"
                )
            return None  # NotAuthenticated (401) from the permission check
        api_key = apikey_for(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                _("The API key is unknown or revoked"), code="bad_key"
            )
        ip = client_ip(request.META, runtime.current())
        if api_key.allowed_ips and not networks_contain(parse_networks(api_key.allowed_ips), ip):
            raise exceptions.PermissionDenied(
                _("This API key may not be used from %(ip)s") % {"ip": ip[:64]}, code="ip"
            )
        if api_key.require_signature or SIGNATURE_HEADER in request.META:
            check_signature(request, api_key)
        apikey_touch(api_key, ip if _is_ip(ip) else None)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="asr-billing"'


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
