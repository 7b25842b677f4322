"""What every /api/v1/ view shares: key auth, scopes, the rate limit, problem details,
cursor pages, django-filter, an ordering whitelist, Accept-Language, Idempotency-Key."""

from __future__ import annotations

from django.utils import translation
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter

from asr_billing.api.authentication import ApiKeyAuthentication
from asr_billing.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from asr_billing.api.idempotency import idempotent
from asr_billing.api.pagination import StableCursorPagination
from asr_billing.api.permissions import HasScope
from asr_billing.api.throttling import KeyRateThrottle

LANGUAGES = ("ru", "en")


class ApiViewMixin:
    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (HasScope,)
    throttle_classes = (KeyRateThrottle,)
    pagination_class = StableCursorPagination
    filter_backends = (DjangoFilterBackend, OrderingFilter)
    ordering_fields = ("id",)
    required_scopes: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        wanted = translation.get_language_from_request(request._request, check_path=False)
        if request.META.get("HTTP_ACCEPT_LANGUAGE") and wanted in LANGUAGES:
            translation.activate(wanted)
            request._request.LANGUAGE_CODE = wanted
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and IDEMPOTENCY_HEADER in request.META:
            handler = getattr(self, "post", None)
            if handler is not None:
                def post(req, *a, _handler=handler, **kw):
                    return idempotent(self, _handler, req, *a, **kw)

                self.post = post

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.setdefault("Content-Language", translation.get_language() or "ru")
        return response

    @property
    def actor(self) -> str:
        return self.request.user.actor


class ReadOnlyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ModelViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """A base for resources whose writes call services (no ModelSerializer.save())."""
