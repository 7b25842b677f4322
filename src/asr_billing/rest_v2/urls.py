from django.urls import re_path

from asr_billing.rest_v2 import legacy_views, views

# The trailing slash is optional: a POST redirected by APPEND_SLASH would lose its body.
urlpatterns = [
    re_path(r"^rest_api/v2/?$", views.index_view, name="rest_v2_index"),
    re_path(r"^rest_api/v2/(?P<model>[^/]+)/?$", views.model_view, name="rest_v2_model"),
    # The deprecated old REST API: a 404 like any unknown URL unless network['api.legacy_rest']
    # is yes (rest_v2/legacy.py).
    re_path(r"^rest_api/?$", legacy_views.rest_api_view, name="rest_api_legacy"),
]
