"""REST v2's door to the subscriber-cabinet functions, which live elsewhere.

``POST /rest_api/v2/Users/`` with ``method1=web_cabinet.login`` runs the very function the
system API runs for ``/system_api/?context=web&method1=web_cabinet.login``: it is looked up
in the one table of system API functions (``asr_billing.system_api.registry``), so a
cabinet function written once answers on both APIs. The answer is what the Laravel REST
client (reference §5, C-LARA) reads: ``{"result": ["<the function's JSON as a string>"]}``,
and a failure is ``{"error": ...}`` inside that string, where that client looks for it.

``get_or_create_dynamic_session`` (a cabinet session for a login, without its password)
comes from the cabinet's session store, ``cabinet.services.dynamic_session``.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError
from asr_billing.rest_v2.values import short
from asr_billing.system_api.render import json_text

# The cabinet's session store provides ``dynamic_session(*, login, source_ip) -> str`` (the
# session id); looked up lazily so this adapter does not import the cabinet at start.
SESSION_PROVIDERS = ("asr_billing.cabinet.services",)


class Unavailable(ApplicationError):
    code = "unavailable"


def _as_wire(answer: Any) -> list[str]:
    # The function's JSON exactly as the system API would answer it, as one string.
    return [json_text(answer)]


def _optional_module(name: str):
    """The module, or None when it (not something it imports) does not exist."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None
        raise


def _registry():
    return _optional_module("asr_billing.system_api.registry")


def web_cabinet(*, name: str, args: dict, source_ip: str, model: str) -> list[str]:
    """Run ``web_cabinet.<name>`` and wrap its answer for REST v2."""
    registry = _registry()
    entry = registry.lookup(name) if registry is not None else None
    if entry is None or entry.context != "web":
        return _as_wire({"error": _("%(name)s is not available") % {"name": short(name)}})
    from asr_billing.system_api.params import Args, Call

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
        with transaction.atomic():  # a failure half-way changes nothing
            answer = entry.func(call)
    except ApplicationError as exc:
        answer = entry.errors(exc)
    return _as_wire(answer)


def dynamic_session(*, login, source_ip: str) -> str:
    """The cabinet session id for ``login`` (created when it has none)."""
    for module_name in SESSION_PROVIDERS:
        module = _optional_module(module_name)
        if module is None:
            continue
        provider = getattr(module, "dynamic_session", None)
        if provider is not None:
            return provider(login=login, source_ip=source_ip)
    raise Unavailable(
        _("get_or_create_dynamic_session is not available yet: cabinet sessions are not set up")
    )
