from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestV2Config(AppConfig):
    name = "asr_billing.rest_v2"
    label = "rest_v2"
    verbose_name = _("API REST v2.0")

    def ready(self):
        from asr_billing.rest_v2 import models_map  # noqa: F401  (declares the models)
