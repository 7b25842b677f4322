from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "asr_billing.api"
    label = "api"
    verbose_name = _("REST API v1")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The key auth's description in the schema; the background task handlers.
        from asr_billing.api import schema, tasks  # noqa: F401
