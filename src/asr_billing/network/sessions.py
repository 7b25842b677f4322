"""RADIUS accounting: the one source of "online" (network.models.OnlineSession).

Every write here is one statement in the common case, because a NAS with 20,000
subscribers and a 300-second interim interval sends ~70 Interim-Updates a second:

- Start inserts the session; a second Start with the same Acct-Unique-Session-Id (the NAS
  retransmits until it hears an answer) hits the unique constraint and changes nothing.
- Interim-Update is one UPDATE of the open session (counters never go backwards: a
  retransmitted older interim may arrive after a newer one).
- Stop is one UPDATE that closes the open session with its cause.
- Accounting-On / Accounting-Off (the NAS rebooted or is going down: none of its sessions
  survive) close every open session of that NAS as ``NAS-Reboot``.

Packets arrive out of order and some are lost: an Interim or a Stop for a session we never
saw starting creates it (started ``Acct-Session-Time`` seconds before the event), so the
subscriber is online (or in the history) all the same. A session we closed as ``Stale``
(no interims for radius['session.stale_after'] seconds) that speaks again is reopened:
"stale" was our guess; a real Stop or a NAS reboot is not undone by a late interim.

Times: ``started_at`` / ``stopped_at`` are the event's time as the NAS tells it
(Event-Timestamp, else receipt time minus Acct-Delay-Time); ``updated_at`` is when we last
heard of the session, by our clock — what the stale check compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from asr_billing.core.db import prepared_cursor
from asr_billing.network.models import Login, Nas, OnlineSession, RadiusAuthLog
from asr_billing.network.radius_class import class_access, class_login_id

START, INTERIM, STOP = "Start", "Interim-Update", "Stop"
ACCOUNTING_ON, ACCOUNTING_OFF = "Accounting-On", "Accounting-Off"
# rlm_rest sends enumerations by name; with raw values (or a policy that copied the
# number) they arrive as digits (RFC 2866 §5.1, RFC 2869 §5.1).
STATUS_NUMBERS = {"1": START, "2": STOP, "3": INTERIM, "7": ACCOUNTING_ON, "8": ACCOUNTING_OFF}
NAS_REBOOT = "NAS-Reboot"
STALE = "Stale"
FIELD_MAX = 64  # the CharField length of the session's text columns


@dataclass(frozen=True)
class AccountingRecord:
    """One Accounting-Request, as the endpoint decoded it.

    Octets are bytes with the Gigawords folded in (input: from the subscriber to the NAS,
    as the NAS counts it). ``session_time`` is Acct-Session-Time, seconds; ``event_time``
    an aware datetime.
    """

    status_type: str
    nas: Nas
    event_time: datetime
    username: str = ""
    acct_session_id: str = ""
    acct_unique_id: str = ""
    framed_ip: str | None = None
    calling_station_id: str = ""
    nas_port_id: str = ""
    class_token: str = ""
    input_octets: int = 0
    output_octets: int = 0
    session_time: int = 0
    terminate_cause: str = ""


def status_name(value: str) -> str:
    """Acct-Status-Type as its name, whether rlm_rest sent the name or the number."""
    return STATUS_NUMBERS.get(value, value)


def _cut(value: str | None) -> str:
    return (value or "")[:FIELD_MAX]


def _login_id(record: AccountingRecord) -> int | None:
    """Whose session: the login our authorize named in Class (a renamed login keeps its
    sessions), else the login named User-Name. None: no such login. Runs only when a
    session is created (a Start, or news of a session we never saw start)."""
    found = class_login_id(record.class_token)
    # A Class from before a login was deleted (or from another billing's database) must
    # not become a foreign key that fails at commit: the NAS would retransmit forever.
    if found is not None and Login.objects.filter(pk=found).exists():
        return found
    if not record.username:
        return None
    return Login.objects.filter(login=record.username).values_list("id", flat=True).first()


def _open(record: AccountingRecord):
    """The open session this record speaks of."""
    sessions = OnlineSession.objects.filter(stopped_at__isnull=True)
    if record.acct_unique_id:
        return sessions.filter(acct_unique_id=_cut(record.acct_unique_id))
    # Without FreeRADIUS's acct_unique (a hand-made request): the NAS's own id among its
    # open sessions; a NAS reuses ids only after a reboot, which closes them all.
    return sessions.filter(nas=record.nas, acct_session_id=_cut(record.acct_session_id))


def _counters(record: AccountingRecord) -> dict:
    return {
        "input_octets": Greatest(F("input_octets"), record.input_octets),
        "output_octets": Greatest(F("output_octets"), record.output_octets),
    }


def _create(record: AccountingRecord, login_id: int, *, now: datetime,
            stopped: bool = False) -> bool:
    """Insert the session; False if one with this unique id exists (a retransmitted
    Start, or a Start racing an Interim). One INSERT, no transaction of its own: the
    unique constraint decides, not a read before the write."""
    started = record.event_time
    if record.status_type != START:
        started = record.event_time - timedelta(seconds=record.session_time)
    session = OnlineSession(
        login_id=login_id,
        nas=record.nas,
        acct_session_id=_cut(record.acct_session_id),
        acct_unique_id=_cut(record.acct_unique_id),
        ip=record.framed_ip,
        calling_station_id=_cut(record.calling_station_id),
        nas_port_id=_cut(record.nas_port_id),
        class_token=_cut(record.class_token),
        access=class_access(record.class_token),
        started_at=started,
        updated_at=now,
        stopped_at=record.event_time if stopped else None,
        terminate_cause=_cut(record.terminate_cause) if stopped else "",
        input_octets=record.input_octets,
        output_octets=record.output_octets,
    )
    try:
        # A savepoint only inside a caller's transaction (tests, a batch): in the request's
        # autocommit a failed INSERT leaves nothing to roll back.
        with transaction.atomic(savepoint=transaction.get_connection().in_atomic_block):
            session.save(force_insert=True)
    except IntegrityError:
        if record.acct_unique_id and OnlineSession.objects.filter(
            acct_unique_id=_cut(record.acct_unique_id)
        ).exists():
            return False
        raise  # not the duplicate (e.g. the login was deleted meanwhile): a real error
    return True


def _start(record: AccountingRecord, now: datetime) -> str:
    login_id = _login_id(record)
    if login_id is None:
        return "unknown-login"
    if not record.acct_unique_id and _open(record).exists():
        return "duplicate"
    if _create(record, login_id, now=now):
        return "started"
    return "duplicate"


_INTERIM_SQL: dict[str, str] = {}


def _interim_sql() -> str:
    """The Interim-Update of an open session by its unique id, written out: the ORM's
    building of this UPDATE cost as much CPU as the rest of the request, and as a prepared
    statement PostgreSQL plans it once per connection (core.db.prepared_cursor)."""
    vendor = connection.vendor
    if vendor not in _INTERIM_SQL:
        larger = "GREATEST" if vendor == "postgresql" else "MAX"
        _INTERIM_SQL[vendor] = (
            f"UPDATE {OnlineSession._meta.db_table} SET updated_at = %s,"  # noqa: S608
            f" input_octets = {larger}(input_octets, %s),"
            f" output_octets = {larger}(output_octets, %s), ip = COALESCE(%s, ip)"
            " WHERE acct_unique_id = %s AND stopped_at IS NULL"
        )
    return _INTERIM_SQL[vendor]


def _interim_update(record: AccountingRecord, now: datetime) -> int:
    if not record.acct_unique_id:
        changes = {"updated_at": now, **_counters(record)}
        if record.framed_ip:
            changes["ip"] = record.framed_ip
        return _open(record).update(**changes)
    with prepared_cursor() as cursor:
        cursor.execute(_interim_sql(), [now, record.input_octets, record.output_octets,
                                        record.framed_ip, _cut(record.acct_unique_id)])
        return cursor.rowcount


def _interim(record: AccountingRecord, now: datetime) -> str:
    if _interim_update(record, now):
        return "updated"
    changes = {"updated_at": now, **_counters(record)}
    if record.framed_ip:
        changes["ip"] = record.framed_ip
    login_id = _login_id(record)
    if login_id is None:
        return "unknown-login"
    if _create(record, login_id, now=now):
        return "started-by-interim"  # the Start was lost, or came before we were up
    return _reopen(record, changes)


def _reopen(record: AccountingRecord, changes: dict) -> str:
    """An interim for a closed session: reopened if we closed it as Stale, else late."""
    if not record.acct_unique_id:
        return "late"
    reopened = OnlineSession.objects.filter(
        acct_unique_id=_cut(record.acct_unique_id), terminate_cause=STALE
    ).update(stopped_at=None, terminate_cause="", **changes)
    return "reopened" if reopened else "late"


def _stop(record: AccountingRecord, now: datetime) -> str:
    closed = _open(record).update(
        stopped_at=record.event_time,
        terminate_cause=_cut(record.terminate_cause),
        updated_at=now,
        **_counters(record),
    )
    if closed:
        return "stopped"
    if record.acct_unique_id and OnlineSession.objects.filter(
        acct_unique_id=_cut(record.acct_unique_id)
    ).exclude(terminate_cause=STALE).exists():
        return "duplicate"
    if record.acct_unique_id:
        # Closed as Stale by us: the NAS's own Stop has the real end and counters.
        fixed = OnlineSession.objects.filter(
            acct_unique_id=_cut(record.acct_unique_id), terminate_cause=STALE
        ).update(stopped_at=record.event_time, terminate_cause=_cut(record.terminate_cause),
                 updated_at=now, **_counters(record))
        if fixed:
            return "stopped"
    login_id = _login_id(record)
    if login_id is None:
        return "unknown-login"
    # Never saw it start: kept in the history with the times the Stop gives.
    return "stopped-without-start" if _create(record, login_id, now=now, stopped=True) \
        else "duplicate"


def sessions_close_nas(*, nas: Nas, at: datetime, cause: str = NAS_REBOOT) -> int:
    """Close every open session of ``nas`` at ``at``. Returns how many."""
    return OnlineSession.objects.filter(nas=nas, stopped_at__isnull=True).update(
        stopped_at=at, terminate_cause=cause, updated_at=timezone.now()
    )


def session_account(*, record: AccountingRecord, now: datetime | None = None) -> str:
    """Apply one Accounting-Request. Returns the outcome for the log line: ``started``,
    ``duplicate``, ``updated``, ``started-by-interim``, ``reopened``, ``late``,
    ``stopped``, ``stopped-without-start``, ``nas-reboot:<closed>``, ``unknown-login``,
    ``ignored:<status>``. Raises DatabaseError when the database is away (→ 503: the NAS
    retries)."""
    now = now or timezone.now()
    status = status_name(record.status_type)
    if status != record.status_type:
        record = AccountingRecord(**{**record.__dict__, "status_type": status})
    if status == START:
        return _start(record, now)
    if status == INTERIM:
        return _interim(record, now)
    if status == STOP:
        return _stop(record, now)
    if status in (ACCOUNTING_ON, ACCOUNTING_OFF):
        return f"nas-reboot:{sessions_close_nas(nas=record.nas, at=record.event_time)}"
    # Tunnel-Start and friends (RFC 2867): nothing of a subscriber's session.
    return f"ignored:{status[:32] or '-'}"


def sessions_close_stale(*, now: datetime, stale_after_seconds: int) -> int:
    """Close the open sessions not heard of for ``stale_after_seconds`` (the NAS lost
    them, or lost us) as ``Stale``, at the time they were last heard of. One UPDATE over
    the partial index of open sessions. Returns how many."""
    cutoff = now - timedelta(seconds=stale_after_seconds)
    return OnlineSession.objects.filter(stopped_at__isnull=True, updated_at__lt=cutoff).update(
        stopped_at=F("updated_at"), terminate_cause=STALE
    )


def radius_refusals_trim(*, now: datetime, keep_days: int) -> int:
    """Delete refusal log rows older than ``keep_days`` days. Returns how many."""
    cutoff = now - timedelta(days=keep_days)
    deleted, _by_model = RadiusAuthLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def open_sessions_of_logins(login_ids) -> list[OnlineSession]:
    """The open sessions of these logins, with their NAS (CoA targets them)."""
    return list(
        OnlineSession.objects.filter(Q(login_id__in=list(login_ids)), stopped_at__isnull=True)
        .select_related("nas", "login")
        .order_by("id")
    )
