"""Cabinet writes: sessions, logging in (by password or by IP), the subscriber's own
profile changes, and the services a subscriber connects from the cabinet.

The client holds a session id (Carbon's ``session_id`` / ``suid``): 32 random hex digits,
stored only as a SHA-256 digest. A session is valid while it is not closed and has been
used within cabinet['session.idle_minutes']; an unknown, closed or idle one raises
NotAuthorized, whose text is the product's ``Необходимо авторизоваться``.

Failed logins are counted in the database (cabinet/login_guard.py: per login name and
client address, per address, and per name with a growing delay). Such a refusal is an
``AuthFailure``: its failure count must be kept, so adapters answer it without rolling
their transaction back.

Python API for other adapters (REST v2): ``cabinet_login``, ``cabinet_password_check``,
``cabinet_auto_login``,
``cabinet_session_open``, ``cabinet_session_get``, ``cabinet_session_close`` and
``dynamic_session`` (a session for a login without its password). For operators:
``cabinet_sessions_end`` and ``cabinet_throttles_clear`` (audited). To run a
``web_cabinet.*`` function by name use ``asr_billing.cabinet.api.cabinet_call``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet import texts
from asr_billing.cabinet.login_guard import (
    is_cabinet_server,
    login_client_ip,
    subscriber_login_guard,
    throttled_text,
)
from asr_billing.cabinet.models import AuthThrottle, CabinetSession, SessionMethod
from asr_billing.core import runtime
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import ApplicationError, InvalidInput, NotFound
from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from asr_billing.network.services import login_set_password, normalize_ip

# A session's last use is written at most this often: a page of several calls costs one
# UPDATE, and expiry stays accurate to a minute.
TOUCH_EVERY = timedelta(seconds=60)
PASSWORD_MAX = 15  # "короче 16 символов"
_PHONE_JUNK = str.maketrans("", "", " -()\u00a0")
_PHONE = re.compile(r"\+?[0-9]{10,15}")


class NotAuthorized(ApplicationError):
    """No valid session: the client must log in again."""

    code = "not_authorized"

    def __init__(self):
        super().__init__(texts.NOT_AUTHORIZED)


class AuthFailure(ApplicationError):
    """A refusal that has counted a failed attempt: answer it, but keep the count
    (do not roll back the transaction that recorded it)."""

    code = "auth_failure"


@dataclass(frozen=True)
class CabinetOptions:
    idle: timedelta
    max_failures: int
    ip_max_failures: int
    window: timedelta
    reset_lifetime: timedelta
    reset_max_requests: int
    reset_ip_max_requests: int
    reset_window: timedelta


def cabinet_options() -> CabinetOptions:
    snap = runtime.current()

    def number(key: str) -> int:
        return int(snap.get("cabinet", key))

    return CabinetOptions(
        idle=timedelta(minutes=number("session.idle_minutes")),
        max_failures=number("login.max_failures"),
        ip_max_failures=number("login.ip_max_failures"),
        window=timedelta(minutes=number("login.lockout_minutes")),
        reset_lifetime=timedelta(minutes=number("reset.token_minutes")),
        reset_max_requests=number("reset.max_requests"),
        reset_ip_max_requests=number("reset.ip_max_requests"),
        reset_window=timedelta(minutes=number("reset.window_minutes")),
    )


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_ip(value) -> str | None:
    """The address as logins store it (IPv4-mapped IPv6 as IPv4, network.services
    .normalize_ip); None when it is not one (a zone id, fe80::1%eth0, is not)."""
    try:
        return normalize_ip(value, "IP")
    except InvalidInput:
        return None


def session_actor(login: Login) -> str:
    """Who acts in the audit log and the ledger when the subscriber does something."""
    return f"cabinet:{login.login}"[:100]


# --- Sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedSession:
    session_id: str  # give it to the client; only its digest is stored
    session: CabinetSession


def cabinet_session_open(
    *, login: Login, method: str, src_ip: str | None, now: datetime | None = None
) -> OpenedSession:
    """Open a session for ``login`` (already authenticated by the caller). Sessions of
    this login unused for longer than the idle time (ended or not) are deleted on the way,
    so they do not pile up; a session ended recently stays listed in the admin until then."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    with transaction.atomic():
        CabinetSession.objects.filter(login=login, last_seen_at__lt=now - cabinet_options().idle
                                      ).delete()
        session = CabinetSession.objects.create(
            key_hash=digest(token),
            login=login,
            subscriber_id=login.subscriber_id,
            method=method,
            src_ip=canonical_ip(src_ip) if src_ip else None,
            created_at=now,
            last_seen_at=now,
        )
    session.login = login
    return OpenedSession(token, session)


def cabinet_session_get(*, suid: str, now: datetime | None = None) -> CabinetSession:
    """The live session for the id a client sent, with its login, subscriber, account and
    tariff loaded (one query; one more to record the use at most once a minute).
    Raises NotAuthorized for an empty, unknown, closed or idle id."""
    now = now or timezone.now()
    text = str(suid or "").strip()
    if not text or len(text) > 200:
        raise NotAuthorized()
    session = (
        CabinetSession.objects.select_related(
            "login__subscriber__account", "login__subscriber__tariff"
        )
        .filter(key_hash=digest(text), closed_at__isnull=True)
        .first()
    )
    if session is None or session.login.subscriber_id != session.subscriber_id:
        raise NotAuthorized()  # unknown, closed, or the login moved to another subscriber
    if session.last_seen_at <= now - cabinet_options().idle:
        raise NotAuthorized()
    if now - session.last_seen_at >= TOUCH_EVERY:
        CabinetSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session


def cabinet_session_close(*, session: CabinetSession, now: datetime | None = None) -> None:
    """Log out: the id stops working at once."""
    CabinetSession.objects.filter(pk=session.pk, closed_at__isnull=True).update(
        closed_at=now or timezone.now()
    )


def _close_other_sessions(login: Login, keep: CabinetSession | None, now: datetime) -> int:
    sessions = CabinetSession.objects.filter(login=login, closed_at__isnull=True)
    if keep is not None:
        sessions = sessions.exclude(pk=keep.pk)
    return sessions.update(closed_at=now)


def cabinet_sessions_end(
    *, session_ids: Iterable[int], actor: Actor, now: datetime | None = None
) -> int:
    """An operator ends sessions: those of ``session_ids`` still open stop working at once,
    each with an audit row; closed or unknown ids are passed over. Returns how many
    were ended."""
    now = now or timezone.now()
    with transaction.atomic():
        sessions = list(
            CabinetSession.objects.select_for_update(of=("self",))
            .select_related("login", "subscriber")
            .filter(pk__in=list(session_ids), closed_at__isnull=True)
            .order_by("pk")
        )
        CabinetSession.objects.filter(pk__in=[s.pk for s in sessions]).update(closed_at=now)
        for session in sessions:
            audit_record(actor=actor, action="cabinet_session_end", obj=session,
                         subscriber=session.subscriber, message=session.login.login,
                         old={"closed_at": None}, new={"closed_at": now.isoformat()})
    return len(sessions)


def cabinet_throttles_clear(*, throttle_ids: Iterable[int], actor: Actor) -> int:
    """An operator forgets the failed attempts counted in ``throttle_ids`` (a login name,
    a name from one address, an address refused is let in again), each with an audit row
    saying what was counted; unknown ids are passed over. Returns how many were cleared."""
    with transaction.atomic():
        rows = list(AuthThrottle.objects.select_for_update()
                    .filter(pk__in=list(throttle_ids)).order_by("pk"))
        for row in rows:
            audit_record(actor=actor, action="cabinet_throttle_clear", obj=row,
                         old={"scope": row.scope, "key": row.key, "failures": row.failures,
                              "window_start": row.window_start.isoformat(),
                              "blocked_until": row.blocked_until and row.blocked_until
                              .isoformat()})
        AuthThrottle.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def dynamic_session(*, login: Login, source_ip: str) -> str:
    """A session id for ``login`` without its password, for a trusted API client
    (REST v2 ``Users.get_or_create_dynamic_session``). Ids are stored as digests, so an
    existing one cannot be handed out again: each call opens a new session."""
    return cabinet_session_open(login=login, method=SessionMethod.DYNAMIC,
                                src_ip=source_ip).session_id


# --- Logging in -------------------------------------------------------------------------


def cabinet_login(
    *,
    login: str,
    password: str,
    source_ip: str,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> OpenedSession:
    """Log in with a login name and its password. ``source_ip`` is the caller;
    ``client_ip`` the subscriber's address a cabinet server passes (believed only from
    network['api.cabinet_servers'], see cabinet.login_guard). The attempt is counted as a
    failure before the password is compared (a burst cannot slip past a full counter) and
    taken back when it was right. Raises AuthFailure: wrong login or password (the
    failure stays counted, even then), or code ``login_locked`` when the attempt must wait
    (nothing is tried or counted)."""
    now = now or timezone.now()
    name = str(login or "").strip()
    client = login_client_ip(source_ip=source_ip, claimed=client_ip)
    guard = subscriber_login_guard(login=name, client_ip=client)
    admission = guard.admit(now=now)  # counted as a failure from here on
    if admission.wait is not None:
        raise AuthFailure(throttled_text(admission.wait), code="login_locked")
    record = (
        Login.objects.select_related("subscriber__account", "subscriber__tariff")
        .filter(login=name)
        .first()
        if name
        else None
    )
    if record is None or not isinstance(password, str) or not login_check_password(
        record, password
    ):
        raise AuthFailure(texts.WRONG_LOGIN, code="wrong_login")  # counted by admit
    guard.succeeded(admission)
    return cabinet_session_open(login=record, method=SessionMethod.PASSWORD,
                                src_ip=client or source_ip, now=now)


def cabinet_password_check(
    *,
    login: Login,
    password,
    source_ip: str,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Is ``password`` the password of ``login`` (REST v2 ``check_pass``)? A wrong one is
    counted as a failed login of that name, exactly as ``cabinet_login`` counts it; a
    right one clears the (name, client address) count. Raises AuthFailure with code
    ``login_locked`` when the attempt must wait (nothing is compared or counted)."""
    now = now or timezone.now()
    client = login_client_ip(source_ip=source_ip, claimed=client_ip)
    guard = subscriber_login_guard(login=login.login, client_ip=client)
    admission = guard.admit(now=now)  # counted as a failure from here on
    if admission.wait is not None:
        raise AuthFailure(throttled_text(admission.wait), code="login_locked")
    if not isinstance(password, str) or not login_check_password(login, password):
        return False  # counted by admit
    guard.succeeded(admission)
    return True


def cabinet_auto_login(
    *, src_ip: str, source_ip: str, now: datetime | None = None
) -> OpenedSession:
    """Log in as the enabled login that holds the subscriber's address: ``src_ip`` (as
    the cabinet web site saw it) when the caller is one of network['api.cabinet_servers'];
    from anyone else the caller's own address ``source_ip`` (behind
    network['api.trusted_proxies'], the client's), whatever it sends — else any caller
    allowed to use the API could open a session as whoever holds an address it names."""
    if not is_cabinet_server(source_ip):
        src_ip = source_ip
    ip = canonical_ip(src_ip) if src_ip else None
    if ip is None:
        raise InvalidInput(texts.AUTO_IP_INVALID % (src_ip or ""), code="auto_ip_invalid")
    record = (
        Login.objects.select_related("subscriber__account", "subscriber__tariff")
        .filter(ip=ip, enabled=True)
        .first()
    )
    if record is None:
        raise NotFound(texts.AUTO_LOGIN_FAILED, code="auto_login_failed")
    return cabinet_session_open(login=record, method=SessionMethod.AUTO_IP, src_ip=ip, now=now)


# --- The subscriber's own profile ----------------------------------------------------------

UNSET = object()


def check_cabinet_password(password) -> str:
    """Carbon's cabinet rule: no spaces, shorter than 16 characters (and not empty)."""
    if (
        not isinstance(password, str)
        or not password
        or len(password) > PASSWORD_MAX
        or any(c.isspace() for c in password)
    ):
        raise InvalidInput(texts.PASSWORD_RULE, code="password_rule")
    return password


def check_notification_phone(value) -> str:
    """A phone for SMS notifications: 10-15 digits, an optional leading +, spaces,
    dashes and brackets allowed (kept as typed). Empty clears it."""
    text = str(value or "").strip()
    if text and (len(text) > 32 or not _PHONE.fullmatch(text.translate(_PHONE_JUNK))):
        raise InvalidInput(texts.SMS_INVALID, code="sms_invalid")
    return text


def cabinet_profile_update(
    *,
    session: CabinetSession,
    password=UNSET,
    sms=UNSET,
    email=UNSET,
    now: datetime | None = None,
) -> list[str]:
    """Change the login password, the SMS phone or the e-mail, as the subscriber.
    Every value is checked before anything changes. A new password ends the login's
    other sessions. Returns the names of what was given."""
    from asr_billing.subscribers.services import subscriber_contacts_update

    now = now or timezone.now()
    contacts = {}
    if password is not UNSET:
        password = check_cabinet_password(password)
    if sms is not UNSET:
        contacts["sms_phone"] = check_notification_phone(sms)
    if email is not UNSET:
        contacts["email"] = str(email or "").strip()
    given = [name for name, value in (("password", password), ("sms", sms), ("email", email))
             if value is not UNSET]
    if not given:
        raise InvalidInput(_("Nothing to change: send user_password, sms or email"),
                           code="nothing_to_change")
    login = session.login
    actor = session_actor(login)
    with transaction.atomic():
        if contacts:
            subscriber_contacts_update(subscriber=login.subscriber, actor=actor, **contacts)
        if password is not UNSET:
            login_set_password(login=login, password=password, actor=actor)
            _close_other_sessions(login, session, now)
    return given


# --- Services (uslugi) from the cabinet ------------------------------------------------------


def cabinet_service_connect(*, session: CabinetSession, service_id: int):
    """Connect a service as the subscriber: the rules (cabinet may connect it, money,
    blocks) are the subscriber service's (subscribers.services)."""
    from asr_billing.subscribers.services import subscriber_service_connect
    from asr_billing.tariffs.models import Service

    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise NotFound(_("Service %(id)s does not exist") % {"id": service_id},
                       code="service_not_found")
    login = session.login
    return subscriber_service_connect(
        subscriber=login.subscriber, service=service, actor=session_actor(login), cabinet=True
    )


def cabinet_service_disconnect(*, session: CabinetSession, service_id: int | None = None,
                               link_id: int | None = None):
    """Disconnect a service of the subscriber, named by the service's id or by the id of
    the connection (the ``pk`` in get_usluga_list's second list)."""
    from asr_billing.subscribers.models import SubscriberService
    from asr_billing.subscribers.services import subscriber_service_disconnect

    login = session.login
    links = SubscriberService.objects.select_related("service").filter(
        subscriber_id=login.subscriber_id
    )
    if link_id is not None:
        link = links.filter(pk=link_id).first()
    else:  # the open connection of that service, else its latest one
        link = links.filter(service_id=service_id).order_by(
            F("disabled_on").desc(nulls_first=True), "-id"
        ).first()
    if link is None:
        raise NotFound(_("This service is not connected"), code="service_not_connected")
    return subscriber_service_disconnect(link=link, actor=session_actor(login), cabinet=True)
