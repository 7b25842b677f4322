"""Cabinet services for a forgotten password: a code by e-mail, then a new password.

``cabinet_password_reset_request`` e-mails a 10-character code (and a link, when the
cabinet gives its ``base_url``) to the subscriber's e-mail address. The code is stored as
a digest, expires after cabinet['reset.token_minutes'], works once, and a new request
replaces the previous code. ``cabinet_password_reset_submit`` takes the code with the
login's id (or its subscriber's id, which some clients send as ``uid``) and sets the new
password; wrong codes count as failed attempts per uid (cabinet/throttle.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet import throttle
from asr_billing.cabinet.mail import send_mail
from asr_billing.cabinet.models import CabinetSession, PasswordResetToken
from asr_billing.cabinet.selectors import local
from asr_billing.cabinet.services import (
    AuthFailure,
    cabinet_options,
    check_cabinet_password,
    digest,
    session_actor,
)
from asr_billing.core.audit import audit_record
from asr_billing.core.errors import Conflict, InvalidInput, NotFound
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


def cabinet_password_reset_request(
    *, login: str, base_url: str = "", now: datetime | None = None
) -> PasswordResetToken:
    """E-mail a password reset code for the login named ``login`` to its subscriber's
    e-mail address. The message leaves after the transaction commits."""
    now = now or timezone.now()
    name = str(login or "").strip()
    record = Login.objects.select_related("subscriber").filter(login=name).first() if name \
        else None
    if record is None:
        raise NotFound(_("Login %(login)s does not exist") % {"login": name[:64]},
                       code="login_not_found")
    email = record.subscriber.email
    if not email:
        raise InvalidInput(
            _("No e-mail address is set for this login; ask your provider to reset the "
              "password"),
            code="no_email",
        )
    lifetime = cabinet_options().reset_lifetime
    code = _new_code()
    with transaction.atomic():
        Login.objects.select_for_update().filter(pk=record.pk).first()  # one request at a time
        tokens = PasswordResetToken.objects.filter(login=record)
        if tokens.filter(created_at__gt=now - REQUEST_INTERVAL).exists():
            raise Conflict(_("A code was sent less than a minute ago: check your e-mail"),
                           code="reset_too_often")
        tokens.filter(used_at__isnull=True).update(used_at=now)  # the old code stops working
        token = PasswordResetToken.objects.create(
            login=record, token_hash=digest(code), email=email, created_at=now,
            expires_at=now + lifetime,
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
    return token


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
    limit = throttle.Limit("reset", uid_text, options.max_failures)
    if throttle.locked_until([limit], window=options.window, now=now) is not None:
        raise AuthFailure(_("Too many wrong codes. Try again later."), code="reset_locked")
    if not isinstance(password1, str) or password1 != password2:
        raise InvalidInput(_("The passwords do not match"), code="passwords_differ")
    check_cabinet_password(password1)
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
        if limit.limit > 0:
            throttle.record_failure("reset", uid_text, window=options.window, now=now)
        raise wrong
    login = found.login
    with transaction.atomic():
        used = PasswordResetToken.objects.filter(pk=found.pk, used_at__isnull=True).update(
            used_at=now
        )
        if used != 1:  # a concurrent submit used it first
            raise wrong
        login_set_password(login=login, password=password1, actor=session_actor(login))
        CabinetSession.objects.filter(login=login, closed_at__isnull=True).update(closed_at=now)
        throttle.clear("reset", uid_text)
    return login
