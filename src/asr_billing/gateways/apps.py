from django.apps import AppConfig


class GatewaysConfig(AppConfig):
    name = "asr_billing.gateways"
    label = "gateways"
    verbose_name = "Payment gateways"

    def ready(self) -> None:
        # Each gateway type registers itself (gateways.base.register) on import.
        from asr_billing.gateways import osmp, sberbank, webhook  # noqa: F401
