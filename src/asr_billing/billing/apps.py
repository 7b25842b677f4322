from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "asr_billing.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Billing runs, tariff changes and recalculations in the admin; kept apart from
        # billing/admin.py, which the admin's author owns.
        from asr_billing.billing import admin_runs  # noqa: F401
