from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "asr_billing.core"
    label = "core"
    verbose_name = _("System")

    def ready(self):
        from django.db.backends.signals import connection_created

        from asr_billing.core.search import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="asr_fold")
