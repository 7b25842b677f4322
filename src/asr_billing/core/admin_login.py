"""The admin's login form with the failed-login limits of cabinet.login_guard: an
operator's username is counted per (username, client address), per address and per
username with a growing delay — the same limits as subscribers' (cabinet['login.*']) —
so a guesser slows down himself, not the operator logging in from elsewhere. A refused
attempt shows the wait on the form and is not tried.

The client address is the request's, X-Forwarded-For believed only from
network['api.trusted_proxies'] (behind a reverse proxy, list it there: else every
operator arrives from the proxy's address).
"""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone


class OperatorLoginForm(AdminAuthenticationForm):
    def clean(self):
        from asr_billing.cabinet.login_guard import operator_login_guard, throttled_text
        from asr_billing.core import runtime
        from asr_billing.system_api.access import client_ip

        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password or self.request is None:
            return super().clean()  # Django's own "required" errors; nothing is tried
        guard = operator_login_guard(username=username,
                                     client_ip=client_ip(self.request.META, runtime.current()))
        # Counted as a failure before the password is compared, so a burst of parallel
        # guesses gets at most the limit tried; taken back when it was right.
        admission = guard.admit(now=timezone.now())
        if admission.wait is not None:
            raise ValidationError(throttled_text(admission.wait), code="throttled")
        cleaned = super().clean()  # a wrong password, an inactive or non-staff account raise
        guard.succeeded(admission)
        return cleaned
