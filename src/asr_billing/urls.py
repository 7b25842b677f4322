from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import include, path

urlpatterns = [
    path("", lambda request: HttpResponseRedirect("/admin/")),
    path("admin/", admin.site.urls),
    path("cabinet/", include("asr_billing.cabinet.web.urls")),
    path("", include("asr_billing.system_api.urls")),
    path("", include("asr_billing.rest_v2.urls")),
    path("", include("asr_billing.gateways.urls")),
    path("", include("asr_billing.radius.urls")),
    path("", include("asr_billing.api.urls")),
]
