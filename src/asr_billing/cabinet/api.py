"""Running a ``web_cabinet.*`` function from Python, as the system API would.

For adapters other than the system API (REST v2's ``Users`` model answers
``{"result": ["<JSON string>"]}`` with exactly this answer inside)::

    from asr_billing.cabinet.api import cabinet_call
    answer = cabinet_call("user_info", {"suid": suid}, source_ip="10.0.0.5")
    # -> {"tarif_id": 3, "balance": "390.67", ...} or {"error": "Необходимо авторизоваться"}

The answer is plain JSON data (dicts, lists, strings, numbers): application errors are
returned as the function's error body, never raised. As in the dispatcher, a function
that writes runs in one transaction, rolled back when it fails.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from asr_billing.core.errors import ApplicationError
from asr_billing.system_api.params import Args, Call
from asr_billing.system_api.registry import lookup

PREFIX = "web_cabinet."

def cabinet_call(name: str, args: dict | None, *, source_ip: str, model: str = "Users") -> Any:
    """Run ``web_cabinet.<name>`` (``name`` with or without the prefix) with ``args``."""
    full = name if name.startswith(PREFIX) else PREFIX + name
    entry = lookup(full)
    if entry is None or entry.context != "web":
        return {"error": f"Unknown cabinet function: {full[:100]}"}
    data = dict(args or {})
    suid = data.get("suid")
    call = Call(method=full, context="web", args=Args(data), source_ip=source_ip, model=model,
                suid=str(suid).strip() if isinstance(suid, (str, int)) else "")
    try:
        if entry.writes:
            with transaction.atomic():
                return entry.func(call)
        return entry.func(call)
    except ApplicationError as exc:
        return entry.errors(exc)
