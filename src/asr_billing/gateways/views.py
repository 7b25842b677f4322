"""``/pay/<type>/<name>/``: the one endpoint of every gateway instance.

Order: the instance exists and is enabled (else 404, nothing revealed); the source IP is
in its allowed_ips (X-Forwarded-For believed only from network['api.trusted_proxies'],
as for the system API); the protocol's credentials or signature; the protocol reads the
request; the intake runs it; the protocol answers. Every call is one line in
system_api.log at app['django.loglevel']='info' (no credentials in it).

No transaction around the call: the payment posting is its own transaction (one
statement in autocommit on PostgreSQL, finance/posting.py), and a reversal opens one.
"""

from __future__ import annotations

import json
import logging
import time

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from asr_billing.core import runtime
from asr_billing.core.config import networks_contain
from asr_billing.gateways import config, intake
from asr_billing.gateways.base import Command, Outcome, Reason, Refused, gateway_for
from asr_billing.system_api.access import client_ip

# A child of the system API's logger: its lines go to system_api.log, at its level.
logger = logging.getLogger("asr_billing.system_api.gateways")


def _not_found() -> HttpResponse:
    return HttpResponse(b"Not found\n", status=404, content_type="text/plain; charset=utf-8")


def _log_value(value: object, limit: int = 64) -> str:
    """One line, no control characters (no log injection), bounded."""
    text = json.dumps(str(value)[:limit], ensure_ascii=False)[1:-1]
    return text or "-"


def _read(gateway, request: HttpRequest, instance, source_ip: str) -> Command:
    if not networks_contain(instance.allowed_networks, source_ip):
        raise Refused(Reason.FORBIDDEN, source_ip)
    try:
        gateway.authenticate(request, instance)
        return gateway.parse(request, instance)
    except (SuspiciousOperation, MultiPartParserError, UnicodeError):
        # A body too large or broken: nothing of it can be trusted or echoed.
        raise Refused(Reason.BAD_REQUEST) from None


def _run(instance, command: Command) -> Outcome:
    try:
        return intake.run(instance, command)
    except (OperationalError, InterfaceError):
        # The database is away: a temporary answer lets the payment system retry.
        logger.exception("gateway %s: database error", instance.key)
        return Outcome(Reason.TEMPORARY)
    except Exception:
        logger.exception("gateway %s: %s failed", instance.key, _log_value(command.kind))
        return Outcome(Reason.INTERNAL)


@csrf_exempt  # payment systems have no CSRF token; they are checked by IP and credentials
def pay(request: HttpRequest, kind: str, name: str) -> HttpResponse:
    started = time.monotonic()
    gateway = gateway_for(kind)
    instance = config.instance(runtime.current(), kind, name) if gateway else None
    if instance is None or not instance.enabled:
        return _not_found()
    if request.method not in gateway.methods:
        response = HttpResponse(b"Method not allowed\n", status=405,
                                content_type="text/plain; charset=utf-8")
        response["Allow"] = ", ".join(gateway.methods)
        return response
    source_ip = client_ip(request.META, runtime.current())
    try:
        command = _read(gateway, request, instance, source_ip)
    except Refused as refused:
        command = refused.command or gateway.unread(request, instance)
        outcome = Outcome(refused.reason, detail=refused.detail)
    else:
        outcome = _run(instance, command)
    response = gateway.render(command, outcome)
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "ip=%s gateway=%s command=%s txn=%s account=%s sum=%s status=%d result=%s%s "
            "ms=%.1f",
            _log_value(source_ip), instance.key, _log_value(command.kind),
            _log_value(command.txn_id), _log_value(command.account),
            command.amount if command.amount is not None else "-", response.status_code,
            outcome.reason.value, " replay" if outcome.replay else "",
            (time.monotonic() - started) * 1000,
        )
    return response
