from django.apps import AppConfig


class RadiusConfig(AppConfig):
    name = "asr_billing.radius"
    label = "radius"
    verbose_name = "RADIUS"
