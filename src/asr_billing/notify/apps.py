from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "asr_billing.notify"
    label = "notify"
    verbose_name = _("Notifications to subscribers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from asr_billing.notify import broadcast, channels  # noqa: F401 - the task handlers
