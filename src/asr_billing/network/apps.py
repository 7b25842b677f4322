from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "asr_billing.network"
    label = "network"
    verbose_name = _("Network")

    def ready(self):
        # The background tasks' handlers register when their modules are imported: a
        # worker (scheduler, run_tasks) must know them before it claims a task.
        from asr_billing.network import coa, coa_rates  # noqa: F401
