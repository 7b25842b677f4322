from django.urls import re_path

from asr_billing.system_api.views import system_api

urlpatterns = [
    # With or without the trailing slash: clients glue "/system_api/?" or "/system_api?".
    re_path(r"^system_api/?$", system_api, name="system_api"),
]
