"""WSGI entry point for gunicorn (``asr-billing serve`` starts it with --preload: this
module runs once in the master, and workers are forked from it)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asr_billing.settings")
django.setup(set_prefix=False)  # what django.core.wsgi.get_wsgi_application does first

# Django's handler, but FreeRADIUS's /radius/ calls skip the middleware (radius/handler.py).
from asr_billing.radius.handler import RadiusFirstHandler  # noqa: E402 - after setup()

application = RadiusFirstHandler()

# The live config starts from the version the settings were made from, so a worker forked
# after cfg/config broke keeps that one (core/runtime.py) instead of failing every request.
from asr_billing.core import runtime  # noqa: E402 - needs the settings above

runtime.runtime()

# Forked workers must not share a database connection opened here.
from django.db import connections  # noqa: E402

connections.close_all()
