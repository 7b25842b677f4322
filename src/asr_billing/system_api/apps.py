from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class SystemApiConfig(AppConfig):
    name = "asr_billing.system_api"
    label = "system_api"
    verbose_name = "System API"

    def ready(self):
        # Our managers register on import; other apps put theirs (web_cabinet.*) in a
        # module named system_api_functions, found like admin.py.
        from asr_billing.system_api import api_1c, collector, fiscal, webcash  # noqa: F401

        autodiscover_modules("system_api_functions")
