"""REST v2's door to the subscriber-cabinet functions, which live in the cabinet.

``POST /rest_api/v2/Users/`` with ``method1=web_cabinet.login`` runs the very function the
system API runs for ``/system_api/?context=web&method1=web_cabinet.login``: it is looked up
in the one table of system API functions (``asr_billing.system_api.registry``), so a
cabinet function written once answers on both APIs. The answer is what the Laravel REST
client (reference §5, C-LARA) reads: ``{"result": ["<the function's JSON as a string>"]}``,
and a failure is ``{"error": ...}`` inside that string, where that client looks for it.

The bridge honours network['api.context'] as the system API does: when ``web`` is not
listed there, every ``web_cabinet.*`` call is refused with the system API's own text,
``Context=web is not defined`` (an operator who switched the cabinet off switched it off
on both APIs).

``get_or_create_dynamic_session`` (a cabinet session for a login, without its password)
is the cabinet's ``cabinet.services.dynamic_session`` (see rest_v2.methods).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.errors import ApplicationError
from asr_billing.core.wire import short
from asr_billing.system_api.access import Refusal, check_context
from asr_billing.system_api.params import Args, Call
from asr_billing.system_api.registry import lookup
from asr_billing.system_api.render import json_text


def _as_wire(answer: Any) -> list[str]:
    # The function's JSON exactly as the system API would answer it, as one string.
    return [json_text(answer)]


def web_cabinet(*, name: str, args: dict, source_ip: str, model: str) -> list[str]:
    """Run ``web_cabinet.<name>`` and wrap its answer for REST v2."""
    try:
        check_context("web", runtime.current())
    except Refusal as refusal:
        return _as_wire({"error": refusal.text})
    entry = lookup(name)
    if entry is None or entry.context != "web":
        return _as_wire({"error": _("%(name)s is not available") % {"name": short(name)}})
    suid = args.get("suid")
    call = Call(
        method=name,
        context="web",
        args=Args(args),
        source_ip=source_ip,
        model=model,
        suid=suid if isinstance(suid, str) else "",
    )
    try:
        if entry.writes:
            with transaction.atomic():  # a failure half-way changes nothing
                answer = entry.func(call)
        else:
            # As the system API runs it: the login's failed-attempt counters commit on
            # their own, and no transaction is held while a password is hashed (on
            # SQLite a transaction holds the database's write lock).
            answer = entry.func(call)
    except ApplicationError as exc:
        answer = entry.errors(exc)
    return _as_wire(answer)
