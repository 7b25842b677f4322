"""WSGI entry point for gunicorn (``asr-billing serve`` starts it)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asr_billing.settings")
application = get_wsgi_application()
