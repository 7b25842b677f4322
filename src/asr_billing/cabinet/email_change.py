"""The subscriber changes their e-mail address from the cabinet, confirmed by a code sent
to the new address — so a typo, or someone at an unlocked screen, cannot point password
resets at a mailbox the subscriber does not read.

``email_change_request`` checks the address, e-mails a code to it (after commit) and
keeps the request; a new request replaces the previous one. Requests per login are limited
like password resets (cabinet['reset.max_requests'] per cabinet['reset.window_minutes']),
the code lives cabinet['reset.token_minutes'], and MAX_ATTEMPTS wrong codes end the
request. ``email_change_confirm`` sets the address through the subscriber's contact
service (set_user_info's), audited as the subscriber's action.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet.mail import send_mail
from asr_billing.cabinet.models import EmailChange
from asr_billing.cabinet.reset import _new_code, _normal_code
from asr_billing.cabinet.selectors import local
from asr_billing.cabinet.services import cabinet_options, digest, session_actor
from asr_billing.cabinet.throttle import Rule, throttle_admit
from asr_billing.core.audit import audit_record
from asr_billing.core.errors import InvalidInput
from asr_billing.network.models import Login
from asr_billing.subscribers.service_common import clean_email

MAX_ATTEMPTS = 5  # wrong codes before the request ends and a new code is needed


def email_change_open(login_id: int, now: datetime | None = None) -> EmailChange | None:
    """The login's request still waiting for its code (not finished, not expired)."""
    now = now or timezone.now()
    return (EmailChange.objects.filter(login_id=login_id, finished_at__isnull=True,
                                       expires_at__gt=now)
            .order_by("-created_at", "-id").first())


def email_change_request(*, login: Login, new_email, now: datetime | None = None
                         ) -> EmailChange:
    """Send a code to ``new_email`` for ``login``'s subscriber. Refused (InvalidInput,
    nothing sent or kept): empty, not an address, the current one, too many requests."""
    now = now or timezone.now()
    text = new_email.strip() if isinstance(new_email, str) else ""
    if not text:
        raise InvalidInput(_("Enter the new e-mail address."), code="email_empty")
    address = clean_email(text)
    if address.lower() == (login.subscriber.email or "").lower():
        raise InvalidInput(_("This is your e-mail address already."), code="email_same")
    options = cabinet_options()
    window = options.reset_window
    rule = Rule("email_change", str(login.pk), options.reset_max_requests,
                delay=window, max_delay=window, forget=window)
    admission = throttle_admit([rule], now=now)
    if admission.wait is not None:
        minutes = max(1, math.ceil(admission.wait.total_seconds() / 60))
        raise InvalidInput(_("Too many codes requested. Try again in %(minutes)d min.")
                           % {"minutes": minutes}, code="email_throttled")
    code = _new_code()
    with transaction.atomic():
        locked = Login.objects.select_for_update(of=("self",)).select_related(
            "subscriber").get(pk=login.pk)
        EmailChange.objects.filter(login=locked, finished_at__isnull=True).update(
            finished_at=now)
        change = EmailChange.objects.create(
            login=locked, new_email=address, code_hash=digest(code), created_at=now,
            expires_at=now + options.reset_lifetime)
        audit_record(actor=session_actor(locked), action="email_change_request",
                     obj=locked.subscriber, subscriber=locked.subscriber,
                     new={"email": address})
        body = _(
            "The e-mail address of login %(login)s is being changed to this one.\n\n"
            "Your code: %(code)s\n"
            "Enter it on the Profile page of your cabinet before %(until)s.\n\n"
            "If you did not ask for it, ignore this message: nothing changes.\n"
        ) % {"login": locked.login, "code": code,
             "until": local(change.expires_at).strftime("%d.%m.%Y %H:%M")}
        subject = _("E-mail confirmation code")
        transaction.on_commit(lambda: send_mail(to=address, subject=subject, body=body))
    return change


@dataclass(frozen=True)
class _Outcome:
    change: EmailChange | None
    error: str | None


def email_change_confirm(*, login: Login, code, now: datetime | None = None) -> EmailChange:
    """The code came back: the subscriber's e-mail becomes the request's address.
    A wrong code counts (MAX_ATTEMPTS end the request); no request, an expired or ended
    one: InvalidInput, nothing else changed."""
    from asr_billing.subscribers.services import subscriber_contacts_update

    now = now or timezone.now()
    given = _normal_code(code)
    with transaction.atomic():
        locked = Login.objects.select_for_update(of=("self",)).select_related(
            "subscriber").get(pk=login.pk)
        outcome = _check(locked, given, now)
        if outcome.error is None:
            change = outcome.change
            subscriber_contacts_update(subscriber=locked.subscriber,
                                       actor=session_actor(locked), email=change.new_email)
            EmailChange.objects.filter(pk=change.pk).update(finished_at=now, confirmed=True)
            audit_record(actor=session_actor(locked), action="email_change_confirm",
                         obj=locked.subscriber, subscriber=locked.subscriber,
                         new={"email": change.new_email})
    # Raised after the block: a wrong code's count must be committed, not rolled back.
    if outcome.error is not None:
        raise InvalidInput(outcome.error, code="email_code")
    outcome.change.refresh_from_db()
    return outcome.change


def _check(login: Login, given: str, now: datetime) -> _Outcome:
    change = email_change_open(login.pk, now)
    if change is None:
        return _Outcome(None, _("The code has expired or was not requested; ask for a new "
                                "one."))
    if given and hmac.compare_digest(digest(given), change.code_hash):
        return _Outcome(change, None)
    attempts = change.attempts + 1
    ended = attempts >= MAX_ATTEMPTS
    EmailChange.objects.filter(pk=change.pk).update(
        attempts=attempts, finished_at=now if ended else None)
    if ended:
        return _Outcome(None, _("The code is wrong %(n)d times; ask for a new one.")
                        % {"n": attempts})
    return _Outcome(None, _("The code is wrong."))
