"""Cabinet services for a forgotten password: a code by e-mail, then a new password.

``cabinet_password_reset_request`` e-mails a 10-character code (and a link, when the
cabinet gives its ``base_url``) to the subscriber's e-mail address. The code is stored as
a digest, expires after cabinet['reset.token_minutes'], works once, and a new request
replaces the previous code. The caller learns nothing about the login (whether it exists,
has an e-mail address, got a code a minute ago): one answer for all, and requests are
limited per login name and per client address. ``cabinet_password_reset_submit`` takes
the code with the login's id (or its subscriber's id, which some clients send as ``uid``)
and sets the new password; wrong codes count as failed attempts per uid
(cabinet/throttle.py).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet.login_guard import login_client_ip
from asr_billing.cabinet.mail import send_mail
from asr_billing.cabinet.models import CabinetSession, PasswordResetToken
from asr_billing.cabinet.selectors import local
from asr_billing.cabinet.services import (
    AuthFailure,
    CabinetOptions,
    cabinet_options,
    check_cabinet_password,
    digest,
    session_actor,
)
from asr_billing.cabinet.throttle import Rule, ip_key, throttle_admit
from asr_billing.core.audit import audit_record
from asr_billing.core.errors import InvalidInput
from asr_billing.core.wire import integral_text
from asr_billing.network.models import Login

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from an e-mail
CODE_LENGTH = 10  # 50 bits
REQUEST_INTERVAL = timedelta(minutes=1)  # one e-mail per login per minute at most


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _n in range(CODE_LENGTH))


def _normal_code(text) -> str:
    return str(text or "").strip().upper().replace("-", "").replace(" ", "")


def _link(base_url: str, code: str, login: Login) -> str:
    """The cabinet's page for the code, when ``base_url`` is an http(s) URL."""
    text = (base_url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    joiner = "&" if parts.query else "?"
    return f"{text}{joiner}{urlencode({'token': code, 'uid': login.pk})}"


@dataclass(frozen=True)
class ResetRequest:
    """What a reset request did — for the audit log and tests, never for the caller:
    the answer must not tell whether the login exists."""

    token: PasswordResetToken | None  # None: nothing was sent
    reason: str  # "sent", "unknown_login", "no_email", "too_soon"


def reset_request_rules(*, login: str, client_ip: str | None,
                        options: CabinetOptions) -> list[Rule]:
    """Every request counts (an e-mail may leave), per login name — known or not, so a
    refusal tells nothing either — and per client address (cabinet.login_guard's)."""
    window = options.reset_window
    same = {"delay": window, "max_delay": window, "forget": window}
    return [
        Rule("reset_login", login, options.reset_max_requests, **same),
        Rule("reset_ip", ip_key(client_ip), options.reset_ip_max_requests, **same),
    ]


def cabinet_password_reset_request(
    *,
    login: str,
    base_url: str = "",
    source_ip: str = "",
    client_ip: str | None = None,
    now: datetime | None = None,
) -> ResetRequest:
    """E-mail a password reset code for the login named ``login`` to its subscriber's
    e-mail address; the message leaves after the transaction commits. Nothing is sent
    for an unknown login, one without an e-mail address, or one that got a code less than
    a minute ago — and the caller cannot tell: the same statements run on every path but
    the two INSERTs (the code, its audit row) and the e-mail of a code really sent, and
    the adapters answer the same text. ``source_ip``/``client_ip`` as for
    ``cabinet_login``. Raises AuthFailure (code ``reset_throttled``) past
    cabinet['reset.max_requests'] for the name or cabinet['reset.ip_max_requests'] for
    the address within cabinet['reset.window_minutes']; such a refusal counts nothing."""
    now = now or timezone.now()
    name = str(login or "").strip()
    options = cabinet_options()
    client = login_client_ip(source_ip=source_ip, claimed=client_ip)
    rules = reset_request_rules(login=name, client_ip=client, options=options)
    # Counted before anything else, under the counters' lock: a burst of parallel
    # requests cannot slip past a full counter. Every request counts (none is taken back).
    admission = throttle_admit(rules, now=now)
    if admission.wait is not None:
        minutes = max(1, math.ceil(admission.wait.total_seconds() / 60))
        raise AuthFailure(
            _("Too many password reset requests. Try again in %(minutes)d min.")
            % {"minutes": minutes},
            code="reset_throttled",
        )
    code = _new_code()  # drawn and digested on every path: the same work either way
    code_digest = digest(code)
    with transaction.atomic():
        # One request per login at a time; an unknown name locks nothing, in one query too.
        record = (Login.objects.select_for_update(of=("self",)).select_related("subscriber")
                  .filter(login=name).first()) if name else None
        # Id 0 is no login's: an unknown name runs the same statements as a known one.
        too_soon = PasswordResetToken.objects.filter(
            login_id=record.pk if record else 0, created_at__gt=now - REQUEST_INTERVAL
        ).exists()
        email = record.subscriber.email if record is not None else ""
        reason = ("unknown_login" if record is None else "no_email" if not email
                  else "too_soon" if too_soon else "sent")
        # The old code stops working when a new one is sent (else this matches nothing).
        PasswordResetToken.objects.filter(
            login_id=record.pk if reason == "sent" else 0, used_at__isnull=True
        ).update(used_at=now)
        if reason != "sent":
            return ResetRequest(None, reason)
        token = PasswordResetToken.objects.create(
            login=record, token_hash=code_digest, email=email, created_at=now,
            expires_at=now + options.reset_lifetime,
        )
        audit_record(actor=session_actor(record), action="password_reset_request", obj=record,
                     subscriber=record.subscriber, new={"email": email})
        body = _(
            "A new password was requested for login %(login)s.\n\n"
            "Your code: %(code)s\n"
            "It is valid until %(until)s and works once.\n"
        ) % {"login": record.login, "code": code,
             "until": local(token.expires_at).strftime("%d.%m.%Y %H:%M")}
        link = _link(base_url, code, record)
        if link:
            body += _("Or open this link: %(link)s\n") % {"link": link}
        body += _("\nIf you did not ask for it, ignore this message.\n")
        subject = _("Password reset code")
        transaction.on_commit(lambda: send_mail(to=email, subject=subject, body=body))
    return ResetRequest(token, "sent")


def cabinet_password_reset_submit(
    *, token: str, uid, password1, password2, now: datetime | None = None
) -> Login:
    """Set the login's new password with an e-mailed code. ``uid`` is the login's id or
    its subscriber's id. All of the login's cabinet sessions end."""
    from asr_billing.network.services import login_set_password

    now = now or timezone.now()
    options = cabinet_options()
    uid_text = str(uid).strip()
    # "2.0" is uid 2 too (Gson-based clients send ids so); one count whatever the spelling.
    uid_number = integral_text(uid_text)
    if uid_number is not None and 0 < uid_number < 10**18:
        uid_text = str(uid_number)
    else:
        uid_number = -1
    # The new password is checked before the code is tried: a typo in it must not use
    # up the code's attempts.
    if not isinstance(password1, str) or password1 != password2:
        raise InvalidInput(_("The passwords do not match"), code="passwords_differ")
    check_cabinet_password(password1)
    window = options.window
    rule = Rule("reset", uid_text, options.max_failures, delay=window, max_delay=window,
                forget=window)
    # Counted as a wrong code before the code is compared (a burst of parallel guesses
    # gets at most the limit tried), forgotten when it was right.
    admission = throttle_admit([rule], now=now)
    if admission.wait is not None:
        raise AuthFailure(_("Too many wrong codes. Try again later."), code="reset_locked")
    code = _normal_code(token)
    found = (
        PasswordResetToken.objects.select_related("login__subscriber")
        .filter(Q(login_id=uid_number) | Q(login__subscriber_id=uid_number),
                token_hash=digest(code), used_at__isnull=True, expires_at__gt=now)
        .first()
        if code
        else None
    )
    wrong = AuthFailure(_("The code is wrong or has expired"), code="reset_code_wrong")
    if found is None:
        raise wrong  # counted by admit
    login = found.login
    with transaction.atomic():
        used = PasswordResetToken.objects.filter(pk=found.pk, used_at__isnull=True).update(
            used_at=now
        )
        if used != 1:  # a concurrent submit used it first
            raise wrong
        login_set_password(login=login, password=password1, actor=session_actor(login))
        CabinetSession.objects.filter(login=login, closed_at__isnull=True).update(closed_at=now)
    admission.succeeded(forget={rule.scope})
    return login
