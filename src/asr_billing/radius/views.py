"""FreeRADIUS rlm_rest endpoints: POST /radius/authorize/, /radius/post-auth/,
/radius/accounting/.

Thin: who may call, the wire (radius/wire.py), then the services in network/.

Who may call, checked before the body is read: the caller's address is in
radius['api.allowed_ips'] (X-Forwarded-For believed only from network['api.trusted_proxies'],
as for every API) else 403; ``Authorization: Bearer <radius['api.token']>`` compared in
constant time else 401 (an empty configured token refuses everyone).

Answers, as rlm_rest maps them (reference §1.4):

- authorize: 200 with control and reply attributes (accept); 401 with a Reply-Message
  (reject — also for an unknown login: a 404 would let FreeRADIUS carry on). The reject
  also sets ``request:Module-Failure-Message`` to ``asr: <reason>``: FreeRADIUS prints
  it in its "Login incorrect" line, and the post-auth call, which carries only the
  request list, brings it back for the refusal log.
- post-auth (the generated config calls it in Post-Auth-Type REJECT): 204 after one
  RadiusAuthLog row.
- accounting: 204 once the session is written (network.sessions) — also for an unknown
  login or a NAS we do not have (logged: FreeRADIUS drops a request that gets a 4xx, and
  the NAS would only retransmit what can never succeed); 400 only for a body that is not
  rlm_rest's JSON; 503 when the database is away, so the NAS retransmits.
- 400 for a body that is not rlm_rest's JSON (→ ``invalid``, a reject); 503 when the
  database is away (→ ``fail``; the NAS retries or tries another server); never a 500.

One line per request in system_api.log at app['django.loglevel']='info' (as the payment
gateways: one file for every machine-to-machine caller); never a password, CHAP value or
the token.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from asr_billing.core import runtime
from asr_billing.core.config import networks_contain
from asr_billing.core.wire import same_secret
from asr_billing.network.radius_auth import (
    AuthRequest,
    canonical_ip,
    nas_by_ip,
    radius_authorize,
    radius_refusal_record,
)
from asr_billing.network.radius_config import radius_settings
from asr_billing.network.sessions import AccountingRecord, session_account, status_name
from asr_billing.radius.wire import BadPacket, Packet, decode, encode
from asr_billing.system_api.access import client_ip

logger = logging.getLogger("asr_billing.system_api.radius")

# Any of these means the password is a challenge response we cannot check (CHAP, MS-CHAP
# v1 and v2): FreeRADIUS's chap / mschap modules check it against our cleartext.
CHALLENGE_ATTRIBUTES = ("CHAP-Password", "MS-CHAP-Response", "MS-CHAP2-Response")


class Refused(Exception):
    def __init__(self, response: HttpResponse, result: str):
        self.response = response
        self.result = result


def _log_value(value: object, limit: int = 64) -> str:
    """One line, no control characters (no log injection), bounded."""
    text = json.dumps(str(value)[:limit], ensure_ascii=False)[1:-1]
    return text or "-"


def _json(data: dict, status: int = 200) -> HttpResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _no_content() -> HttpResponse:
    return HttpResponse(status=204)


def _guard(request: HttpRequest) -> str:
    """The caller's address, after the allow-list and the token; else Refused."""
    snapshot = runtime.current()
    config = radius_settings(snapshot)
    source_ip = client_ip(request.META, snapshot)
    if not networks_contain(config.allowed_networks, source_ip):
        # FreeRADIUS ignores a 403's body (userlock): the text is for whoever curls it.
        raise Refused(_json({"error": "address not allowed"}, 403), "refused:ip")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, token = header.partition(" ")
    if (not config.token or scheme.lower() != "bearer"
            or not same_secret(token.strip(), config.token)):
        body = encode(reply={"Reply-Message": [_("The billing is not available now.")]})
        raise Refused(_json(body, 401), "refused:token")
    if request.method != "POST":
        response = _json({"error": "POST only"}, 405)
        response["Allow"] = "POST"
        raise Refused(response, "refused:method")
    return source_ip


def _packet(request: HttpRequest) -> Packet:
    try:
        return decode(request.body)
    except BadPacket as exc:
        raise Refused(_json({"error": str(exc)}, 400), "bad-request") from None
    except RequestDataTooBig:  # above DATA_UPLOAD_MAX_MEMORY_SIZE: not read
        raise Refused(_json({"error": "request body too large"}, 400), "bad-request") from None


def _endpoint(name: str):
    """Run ``handler(request, source_ip, record)`` behind the guard, map errors to the
    answers above and write the request's log line (``record``: what the handler found)."""

    def wrap(handler):
        @csrf_exempt  # FreeRADIUS has no CSRF token: it is checked by address and token
        def view(request: HttpRequest) -> HttpResponse:
            started = time.monotonic()
            record = {"nas": "-", "user": "-", "result": "-"}
            source_ip = request.META.get("REMOTE_ADDR", "")
            try:
                source_ip = _guard(request)
                response = handler(request, source_ip, record)
            except Refused as refused:
                response, record["result"] = refused.response, refused.result
            except BadPacket as exc:
                response, record["result"] = _json({"error": str(exc)}, 400), "bad-request"
            except DatabaseError:
                logger.exception("radius %s: database error", name)
                response, record["result"] = _json({"error": "database unavailable"}, 503), \
                    "database-error"
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "radius %s ip=%s nas=%s user=%s status=%d result=%s ms=%.1f",
                    name, _log_value(source_ip), _log_value(record["nas"]),
                    _log_value(record["user"]), response.status_code,
                    _log_value(record["result"], 120), (time.monotonic() - started) * 1000,
                )
            return response

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


def _header_ip(request: HttpRequest) -> str | None:
    # FreeRADIUS's Packet-Src-IP-Address: the NAS as its client secret knows it.
    return request.META.get("HTTP_X_RADIUS_CLIENT") or None


@_endpoint("authorize")
def authorize(request: HttpRequest, source_ip: str, record: dict) -> HttpResponse:
    """Access-Request → accept (200 + attributes) or reject (401 + Reply-Message)."""
    packet = _packet(request)
    username = packet.text("User-Name", "")
    auth_request = AuthRequest(
        username=username,
        nas_ip=packet.text("NAS-IP-Address"),
        source_ip=_header_ip(request),
        user_password=packet.text("User-Password"),
        chap=any(packet.has(name) for name in CHALLENGE_ATTRIBUTES),
        framed_ip=packet.text("Framed-IP-Address"),
        calling_station_id=packet.text("Calling-Station-Id", ""),
    )
    record["nas"] = auth_request.nas_ip or auth_request.source_ip or "-"
    record["user"] = username or auth_request.framed_ip or auth_request.calling_station_id
    decision = radius_authorize(request=auth_request)
    record["result"] = decision.reason
    if decision.accept:
        return _json(encode(control=decision.control, reply=decision.reply))
    return _json(
        encode(reply={"Reply-Message": [decision.message]},
               request={"Module-Failure-Message": [f"asr: {decision.reason}"]}),
        401,
    )


def _reason(packet: Packet) -> str:
    """Why FreeRADIUS rejected: our own Module-Failure-Message first (authorize set it),
    else the last module's, else a Reply-Message some policy put in the request."""
    failures = packet.texts("Module-Failure-Message")
    ours = [text for text in failures if text.startswith("asr: ")]
    if ours:
        return ours[-1][len("asr: "):]
    if failures:
        return failures[-1]
    return packet.text("Reply-Message") or "rejected"


@_endpoint("post-auth")
def post_auth(request: HttpRequest, source_ip: str, record: dict) -> HttpResponse:
    """An Access-Reject (or any Access-Request the config posts): one refusal log row."""
    packet = _packet(request)
    nas_ip = packet.text("NAS-IP-Address")
    nas = nas_by_ip(nas_ip) or nas_by_ip(_header_ip(request))
    username = packet.text("User-Name", "")
    reason = _reason(packet)
    record.update(nas=nas_ip or _header_ip(request) or "-", user=username, result=reason)
    radius_refusal_record(
        nas_id=nas.id if nas else None,
        username=username,
        calling_station_id=packet.text("Calling-Station-Id", ""),
        reason=reason,
    )
    return _no_content()


def _octets(packet: Packet, direction: str) -> int:
    """Bytes one way: acct_counters64's Acct-<dir>-Octets64 when the config made it, else
    Acct-<dir>-Gigawords × 2³² + Acct-<dir>-Octets."""
    wide = packet.integer64(f"Acct-{direction}-Octets64")
    if wide is not None:
        return wide
    return ((packet.integer(f"Acct-{direction}-Gigawords") or 0) << 32) + (
        packet.integer(f"Acct-{direction}-Octets") or 0
    )


def _event_time(packet: Packet):
    """When it happened: Event-Timestamp, else now less Acct-Delay-Time (the seconds the
    NAS spent retransmitting)."""
    stamp = packet.date("Event-Timestamp")
    if stamp is not None:
        return stamp
    return timezone.now() - timedelta(seconds=packet.integer("Acct-Delay-Time") or 0)


def _class_text(value: str) -> str:
    """Class as text: rlm_rest sends octets as "0x…" hex; ours is ASCII."""
    if value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:]).decode("ascii", "replace")
        except ValueError:
            return ""
    return value


@_endpoint("accounting")
def accounting(request: HttpRequest, source_ip: str, record: dict) -> HttpResponse:
    """Accounting-Request → 204 once it is written (network.sessions.session_account)."""
    packet = _packet(request)
    nas_ip = packet.text("NAS-IP-Address")
    nas = nas_by_ip(nas_ip) or nas_by_ip(_header_ip(request))
    username = packet.text("User-Name", "")
    status = status_name(packet.name_or_number("Acct-Status-Type"))
    record.update(nas=nas_ip or _header_ip(request) or "-", user=username or "-")
    accounting_record = AccountingRecord(
        status_type=status,
        nas=nas,
        event_time=_event_time(packet),
        username=username,
        acct_session_id=packet.text("Acct-Session-Id", ""),
        acct_unique_id=packet.text("Acct-Unique-Session-Id", ""),
        # Not an address (a broken NAS): kept out, not a database error the NAS retries.
        framed_ip=canonical_ip(packet.text("Framed-IP-Address")),
        calling_station_id=packet.text("Calling-Station-Id", ""),
        nas_port_id=packet.text("NAS-Port-Id", ""),
        class_token=_class_text(packet.text("Class", "")),
        input_octets=_octets(packet, "Input"),
        output_octets=_octets(packet, "Output"),
        session_time=packet.integer("Acct-Session-Time") or 0,
        terminate_cause=packet.name_or_number("Acct-Terminate-Cause"),
    )
    if nas is None:
        logger.warning("radius accounting from a NAS we do not have: %s",
                       _log_value(record["nas"]))
        record["result"] = "unknown-nas"
        return _no_content()
    record["result"] = session_account(record=accounting_record)
    return _no_content()
