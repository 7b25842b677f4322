"""What every /api/v1/ view shares: key auth, scopes, the rate limit, problem details,
cursor pages, django-filter, an ordering whitelist, Accept-Language, Idempotency-Key."""

from __future__ import annotations

from django.http import Http404
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter

from asr_billing.api.authentication import ApiKeyAuthentication
from asr_billing.api.filters import BIGINT_MAX, ApiFilterBackend
from asr_billing.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from asr_billing.api.idempotency import idempotent
from asr_billing.api.pagination import StableCursorPagination
from asr_billing.api.permissions import HasScope
from asr_billing.api.throttling import KeyRateThrottle
from asr_billing.core.replica import replica_reads

LANGUAGES = ("ru", "en")


class ApiViewMixin:
    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (HasScope,)
    throttle_classes = (KeyRateThrottle,)
    pagination_class = StableCursorPagination
    filter_backends = (ApiFilterBackend, OrderingFilter)
    ordering_fields = ("id",)
    required_scopes: dict[str, str] = {}
    # Lists may come from the read replica (core/replica.py); money resources say False.
    replica_lists = True

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
        if self.replica_lists and getattr(self, "action", None) == "list":
            # After the key, scope and rate checks (they read the primary): the page is
            # read and serialized between here and finalize_response.
            self._replica = replica_reads()
            self._replica.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        replica = getattr(self, "_replica", None)
        if replica is not None:
            self._replica = None
            replica.__exit__(None, None, None)
        response = super().finalize_response(request, response, *args, **kwargs)
        response.setdefault("Content-Language", translation.get_language() or "ru")
        return response

    def get_object(self):
        # Every resource is found by an integer id: anything else (a float, a number no
        # column holds) is a 404 here rather than an overflow in the database driver.
        value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if not str(value).isdigit() or int(value) > BIGINT_MAX:
            raise Http404
        return super().get_object()

    @property
    def actor(self) -> str:
        return self.request.user.actor


class ReadOnlyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ModelViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """A base for resources whose writes call services (no ModelSerializer.save())."""


@csrf_exempt
def not_found(request, *args, **kwargs):
    """404 as problem details for any /api/v1/ path no resource has."""
    from django.http import JsonResponse
    from django.urls import Resolver404, resolve
    from django.utils.translation import gettext as _

    from asr_billing.api.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE

    detail = _("No such object")
    if not request.path.endswith("/"):
        try:
            if resolve(request.path + "/").func is not not_found:
                detail = _("Paths end with a slash: %(path)s") % {"path": request.path + "/"}
        except Resolver404:  # pragma: no cover - the catch-all resolves everything
            pass
    return JsonResponse(
        {"type": PROBLEM_TYPE_BASE + "not-found", "title": _("Not found"), "status": 404,
         "detail": detail},
        status=404, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False},
    )
