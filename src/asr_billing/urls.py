from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import include, path

from asr_billing.core import health, metrics

urlpatterns = [
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", lambda request: HttpResponseRedirect("/admin/")),
    path("admin/", admin.site.urls),
    path("cabinet/", include("asr_billing.cabinet.web.urls")),
    path("", include("asr_billing.system_api.urls")),
    path("", include("asr_billing.rest_v2.urls")),
    path("", include("asr_billing.gateways.urls")),
    path("", include("asr_billing.radius.urls")),
    path("", include("asr_billing.api.urls")),
]
