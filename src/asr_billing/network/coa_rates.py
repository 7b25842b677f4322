"""CoA-Requests with new rates (RFC 5176 §3.1) when a subscriber's tariff changes.

billing's tariff change (at once, or a scheduled one the run applies) calls
``sessions_rates_changed()``: for each open session of the subscriber with full access
whose NAS would get other shaping attributes under the new tariff, a background task
(core.tasks: after commit, once per session and change, retried) sends the NAS a
CoA-Request naming the session (User-Name, Acct-Session-Id, NAS-IP-Address,
Framed-IP-Address) with the new tariff's attributes in the NAS's dialect
(network.shaping: Mikrotik-Rate-Limit, accel-ppp's Filter-Id, Cisco-Account-Info), read
when the task runs, so a second quick change sends the latest.

- CoA-ACK: done, the new speed holds from now.
- CoA-NAK with Error-Cause 503 (no such session): done.
- another CoA-NAK (the NAS cannot change a session's rates), or a NAS type we have no
  rate attributes for: the session is disconnected instead (network.coa), so the NAS's
  next authorize gives the new rates.
- no answer: retried up to radius['coa.max_attempts'] times (then, in the admin's
  background tasks, "failed").

Sessions in the no money profile are left to the reconcile of network.coa (their access,
not their rates, is what changes).
"""

from __future__ import annotations

import os
import struct

from asr_billing.core.tasks import TaskFailed, task_enqueue, task_handler
from asr_billing.network.coa import (
    RESOURCES_UNAVAILABLE,
    SESSION_NOT_FOUND,
    exchange,
    request_packet,
    session_disconnect,
)
from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import OnlineSession
from asr_billing.network.radius_config import radius_settings
from asr_billing.network.shaping import rate_attributes

COA_REQUEST, COA_ACK, COA_NAK = 43, 44, 45
VENDOR_SPECIFIC = 26
# The attributes network.shaping.rate_attributes names: (vendor id or None, type), as in
# FreeRADIUS's dictionaries (dictionary.mikrotik, dictionary.cisco, dictionary.rfc2865).
ATTRIBUTES = {
    "Mikrotik-Rate-Limit": (14988, 8),
    "Cisco-Account-Info": (9, 250),
    "Filter-Id": (None, 11),
}
TASK = "network.coa_rates"


def encode_attribute(name: str, value: str) -> bytes:
    """One string attribute on the wire; a vendor's inside Vendor-Specific (RFC 2865
    §5.26). KeyError for a name not in ATTRIBUTES."""
    vendor, kind = ATTRIBUTES[name]
    data = value.encode()[:247]
    inner = struct.pack("!BB", kind, len(data) + 2) + data
    if vendor is None:
        return inner
    body = struct.pack("!I", vendor) + inner
    return struct.pack("!BB", VENDOR_SPECIFIC, len(body) + 2) + body


def _rates_of(session: OnlineSession) -> dict[str, list[str]]:
    return rate_attributes(nas_type=session.nas.nas_type,
                           tariff=session.login.subscriber.tariff)


@task_handler(TASK)
def _send_rates(payload: dict) -> str:
    session = (OnlineSession.objects.select_related("nas", "login__subscriber__tariff")
               .filter(pk=payload.get("session_id")).first())
    if session is None:
        return "no such session"
    if session.stopped_at is not None:
        return "the session had ended already"
    if not session.nas.radius_secret_enc:
        raise TaskFailed("the NAS has no RADIUS secret (admin: NAS devices)")
    rates = _rates_of(session)
    if not rates:
        session_disconnect(session=session, reason=f"rates-{payload.get('change')}")
        return "no rate attributes for this NAS type: disconnected instead"
    extra = b"".join(encode_attribute(name, value)
                     for name, values in rates.items() for value in values)
    key = decrypt_secret(session.nas.radius_secret_enc).encode()
    packet = request_packet(code=COA_REQUEST, identifier=os.urandom(1)[0], secret=key,
                            username=session.login.login,
                            session_id=session.acct_session_id, nas_ip=session.nas.ip,
                            framed_ip=session.ip, extra=extra)
    code, cause = exchange(host=session.nas.ip, port=session.nas.coa_port, packet=packet,
                           secret=key, timeout=radius_settings().coa_timeout)
    sent = "; ".join(f"{name}={value}" for name, values in rates.items() for value in values)
    if code == COA_ACK:
        return f"CoA-ACK: {sent}"
    if code == COA_NAK:
        if cause == RESOURCES_UNAVAILABLE:
            raise TaskFailed("CoA-NAK, Error-Cause 506 (resources unavailable)")
        if cause == SESSION_NOT_FOUND:
            return "CoA-NAK, Error-Cause 503: the NAS has no such session any more"
        session_disconnect(session=session, reason=f"rates-{payload.get('change')}")
        return (f"CoA-NAK, Error-Cause {cause if cause is not None else '-'}: "
                "disconnected instead")
    raise TaskFailed(f"an answer with code {code}, not a CoA-ACK or NAK")


def sessions_rates_changed(*, subscriber_id: int, old_tariff, new_tariff, change_id) -> int:
    """After a tariff change (inside its transaction): ask for a CoA-Request on each of
    the subscriber's open full-access sessions whose NAS gets other rates now. One query;
    returns how many were asked for. Nothing when radius['coa.enabled'] is no."""
    settings = radius_settings()
    if not settings.coa_enabled:
        return 0
    count = 0
    sessions = (OnlineSession.objects.select_related("nas")
                .filter(login__subscriber_id=subscriber_id, stopped_at__isnull=True,
                        access="f"))
    for session in sessions:
        nas_type = session.nas.nas_type
        if (rate_attributes(nas_type=nas_type, tariff=old_tariff)
                == rate_attributes(nas_type=nas_type, tariff=new_tariff)):
            continue  # the same speeds: nothing for the NAS to change
        task_enqueue(name=TASK, key=f"coa-rates:{session.pk}:{change_id}"[:200],
                     payload={"session_id": session.pk, "change": change_id},
                     max_attempts=settings.coa_max_attempts)
        count += 1
    return count
