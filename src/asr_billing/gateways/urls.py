from django.urls import re_path

from asr_billing.gateways.views import pay

urlpatterns = [
    # With or without the trailing slash: agents' settings are typed by hand.
    re_path(r"^pay/(?P<kind>[a-z]+)/(?P<name>[a-z0-9][a-z0-9_-]{0,31})/?$", pay, name="pay"),
]
