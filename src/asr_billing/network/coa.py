"""Disconnect-Requests to NAS devices (RFC 5176), through the background tasks.

``session_disconnect()`` asks for one after the current transaction commits (core.tasks:
once per session, retried with a growing delay, the outcome in the admin's background
tasks). The handler sends the request to the NAS's CoA port with its RADIUS secret,
naming the session as the NAS knows it (User-Name, Acct-Session-Id, Framed-IP-Address)
and waits radius['coa.timeout'] seconds for the answer:

- Disconnect-ACK: done;
- Disconnect-NAK with Error-Cause 503 (Session Context Not Found): done — the NAS has no
  such session any more, which is what was wanted;
- another NAK: done, with the cause in the outcome (the NAS refuses; sending again would
  not change its mind) — except 506 (Resources Unavailable), retried;
- no answer: retried up to radius['coa.max_attempts'] times.

The NAS then sends the session's Accounting Stop; when the subscriber dials again the
authorize decides with the new state (the no money profile, a reject, or full service).

Who is disconnected without an operator: ``sessions_reconcile_access()``, on every tick of
the scheduler, compares each open session's access (what its authorize gave: full, or the
no money profile — OnlineSession.access, from the Class) with its subscriber's state now.
A session with full access whose subscriber has run out of money, been blocked (by the
administrator or a voluntary block) or whose login was disabled, and a session in the no
money profile whose subscriber may now be online in full (a payment, a block lifted), is
disconnected once. Comparing states rather than hooking every place that changes them
(payments post in one SQL function, the charging run flips thousands of flags in one
statement) cannot miss a change; the cost is up to one tick (20 s) of delay.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct

from django.db.models import Q

from asr_billing.core.models import Task
from asr_billing.core.tasks import TaskFailed, task_enqueue, task_handler
from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import OnlineSession
from asr_billing.network.radius_config import radius_settings

DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
USER_NAME, NAS_IP_ADDRESS, FRAMED_IP_ADDRESS, ACCT_SESSION_ID = 1, 4, 8, 44
ERROR_CAUSE = 101
SESSION_NOT_FOUND, RESOURCES_UNAVAILABLE = 503, 506
TASK = "network.disconnect"


def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!BB", kind, len(value) + 2) + value[:253]


def request_packet(*, code: int, identifier: int, secret: bytes, username: str,
                   session_id: str, nas_ip: str | None, framed_ip: str | None,
                   extra: bytes = b"") -> bytes:
    """A Disconnect-Request or CoA-Request (``code``) naming the session, with ``extra``
    attributes after; its Request Authenticator is MD5(code, id, length, 16 zero octets,
    attributes, secret) (RFC 5176 §3.5)."""
    attributes = _attribute(USER_NAME, username.encode()) + _attribute(
        ACCT_SESSION_ID, session_id.encode())
    if nas_ip and ":" not in nas_ip:
        attributes += _attribute(NAS_IP_ADDRESS, socket.inet_aton(nas_ip))
    if framed_ip and ":" not in framed_ip:
        attributes += _attribute(FRAMED_IP_ADDRESS, socket.inet_aton(framed_ip))
    attributes += extra
    header = struct.pack("!BBH", code, identifier, 20 + len(attributes))
    authenticator = hashlib.md5(header + b"\0" * 16 + attributes + secret).digest()  # noqa: S324
    return header + authenticator + attributes


def disconnect_packet(*, identifier: int, secret: bytes, username: str, session_id: str,
                      nas_ip: str | None, framed_ip: str | None) -> bytes:
    """A Disconnect-Request for the session."""
    return request_packet(code=DISCONNECT_REQUEST, identifier=identifier, secret=secret,
                          username=username, session_id=session_id, nas_ip=nas_ip,
                          framed_ip=framed_ip)


def _answer(data: bytes, request: bytes, secret: bytes) -> tuple[int, int | None]:
    """(code, Error-Cause or None) of a valid answer to ``request``; TaskFailed if the
    answer is not one (wrong id, bad authenticator: not our NAS, or not our secret)."""
    if len(data) < 20 or data[1] != request[1]:
        raise TaskFailed("an answer that is not to our request")
    length = struct.unpack("!H", data[2:4])[0]
    expected = hashlib.md5(  # noqa: S324
        data[:4] + request[4:20] + data[20:length] + secret).digest()
    if expected != data[4:20]:
        raise TaskFailed("the answer's authenticator is wrong: is the NAS's secret right?")
    cause, offset = None, 20
    while offset + 2 <= length:
        kind, size = data[offset], data[offset + 1]
        if size < 2:
            break
        if kind == ERROR_CAUSE and size == 6:
            cause = struct.unpack("!I", data[offset + 2:offset + 6])[0]
        offset += size
    return data[0], cause


def send_disconnect(*, host: str, port: int, secret: str, username: str, session_id: str,
                    nas_ip: str | None, framed_ip: str | None, timeout: float) -> str:
    """Send one Disconnect-Request and read its answer. Returns the outcome text;
    TaskFailed when it should be tried again."""
    key = secret.encode()
    packet = disconnect_packet(identifier=os.urandom(1)[0], secret=key, username=username,
                               session_id=session_id, nas_ip=nas_ip, framed_ip=framed_ip)
    code, cause = exchange(host=host, port=port, packet=packet, secret=key, timeout=timeout)
    if code == DISCONNECT_ACK:
        return "Disconnect-ACK"
    if code == DISCONNECT_NAK:
        if cause == RESOURCES_UNAVAILABLE:
            raise TaskFailed("Disconnect-NAK, Error-Cause 506 (resources unavailable)")
        if cause == SESSION_NOT_FOUND:
            return "Disconnect-NAK, Error-Cause 503: the NAS has no such session any more"
        return f"Disconnect-NAK, Error-Cause {cause if cause is not None else '-'}"
    raise TaskFailed(f"an answer with code {code}, not a Disconnect-ACK or NAK")


def exchange(*, host: str, port: int, packet: bytes, secret: bytes,
             timeout: float) -> tuple[int, int | None]:
    """Send ``packet`` to the NAS and return (code, Error-Cause) of its answer;
    TaskFailed when there is none (to be tried again) or it is not a valid one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.send(packet)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            raise TaskFailed(f"no answer from {host}:{port} in {timeout:g} s") from None
        except OSError as exc:  # ICMP port unreachable: nothing listens there
            raise TaskFailed(f"{host}:{port}: {exc.strerror or exc}") from None
    return _answer(data, packet, secret)


@task_handler(TASK)
def _disconnect(payload: dict) -> str:
    session = (OnlineSession.objects.select_related("nas", "login")
               .filter(pk=payload.get("session_id")).first())
    if session is None:
        return "no such session"
    if session.stopped_at is not None:
        return "the session had ended already"
    if not session.nas.radius_secret_enc:
        raise TaskFailed("the NAS has no RADIUS secret (admin: NAS devices)")
    return send_disconnect(
        host=session.nas.ip, port=session.nas.coa_port,
        secret=decrypt_secret(session.nas.radius_secret_enc),
        username=session.login.login, session_id=session.acct_session_id,
        nas_ip=session.nas.ip, framed_ip=session.ip,
        timeout=radius_settings().coa_timeout)


def session_disconnect(*, session: OnlineSession, reason: str) -> bool:
    """Ask the session's NAS to end it, after the current transaction commits; once per
    session and reason. False when radius['coa.enabled'] is no."""
    settings = radius_settings()
    if not settings.coa_enabled:
        return False
    task_enqueue(name=TASK, key=f"disconnect:{session.pk}:{reason}"[:200],
                 payload={"session_id": session.pk, "reason": reason},
                 max_attempts=settings.coa_max_attempts)
    return True


def _denied() -> Q:
    """The subscriber may not be online in full now (as radius_auth decides it)."""
    return (Q(login__enabled=False) | Q(login__subscriber__negbal=True)
            | Q(login__subscriber__admin_blocked=True)
            | Q(login__subscriber__voluntary_blocked=True))


def sessions_reconcile_access(*, now=None) -> int:
    """Ask for a Disconnect of every open session whose access no longer matches its
    subscriber's state (see the module's text). Two queries and one INSERT per new
    Disconnect. Returns how many were asked for."""
    if not radius_settings().coa_enabled:
        return 0
    open_sessions = OnlineSession.objects.filter(stopped_at__isnull=True)
    lost = open_sessions.filter(_denied(), access="f").values_list("id", flat=True)
    restored = (open_sessions.filter(access="n", login__enabled=True,
                                     login__subscriber__negbal=False,
                                     login__subscriber__admin_blocked=False,
                                     login__subscriber__voluntary_blocked=False)
                .values_list("id", flat=True))
    wanted = {f"disconnect:{pk}:access-lost": pk for pk in lost}
    wanted.update({f"disconnect:{pk}:access-restored": pk for pk in restored})
    if not wanted:
        return 0
    asked = set(Task.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    settings = radius_settings()
    count = 0
    for key, pk in wanted.items():
        if key in asked:
            continue
        task_enqueue(name=TASK, key=key, payload={"session_id": pk, "reason": key.rsplit(":")[-1]},
                     max_attempts=settings.coa_max_attempts)
        count += 1
    return count
