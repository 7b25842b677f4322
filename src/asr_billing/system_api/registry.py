"""The table of system API functions: ``method1`` name -> context, callable, error style.

Managers register their functions with :func:`api_function`. This app registers its own
managers in ``SystemApiConfig.ready()``; any other installed app can add functions by
placing them in a module named ``system_api_functions`` (autodiscovered, like admin.py)::

    # asr_billing/cabinet/system_api_functions.py
    from asr_billing.system_api.registry import CABINET_ERRORS, api_function

    @api_function("web_cabinet.user_info", context="web", errors=CABINET_ERRORS)
    def user_info(call):
        call.args.text("suid", required=True)   # also filled from a top-level suid=
        ...

A function receives a :class:`~asr_billing.system_api.params.Call` and returns the
answer as plain data (dicts, lists, strings, ints, Decimals) or a
:class:`~asr_billing.system_api.render.Lines`; it raises
:class:`~asr_billing.core.errors.ApplicationError` for an error the client should read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asr_billing.core.errors import ApplicationError


def cabinet_errors(exc: ApplicationError) -> dict:
    """Cabinet clients (JS, Kotlin, Go, PHP) test a top-level ``error`` string."""
    return {"error": str(exc.message)}


def one_c_errors(exc: ApplicationError) -> dict:
    """The 1C module aborts on ``error_text`` (dict, list[0] or struct); ``error`` for the rest."""
    text = str(exc.message)
    return {"error_text": text, "error": text}


CABINET_ERRORS = cabinet_errors
ONE_C_ERRORS = one_c_errors


@dataclass(frozen=True)
class ApiFunction:
    name: str  # "collector_manager.users_negbal"
    context: str  # the only context it may be called under
    func: Callable[..., Any]
    errors: Callable[[ApplicationError], dict]
    # Wrapped in one transaction, so an error raised half-way changes nothing. Reads are
    # not: on SQLite a transaction takes the write lock at BEGIN (IMMEDIATE mode).
    writes: bool = False
    # Body of an application error when the client asked for no format: "xml" (as the
    # old API) or "text" (an HTTP 400 plain-text line, for NAS scripts that read lines).
    plain_errors: str = "xml"
    # A heavy read-only list: may be answered from the read replica (core/replica.py).
    replica: bool = False


_REGISTRY: dict[str, ApiFunction] = {}


def api_function(
    name: str,
    *,
    context: str,
    errors: Callable[[ApplicationError], dict] = CABINET_ERRORS,
    writes: bool = False,
    plain_errors: str = "xml",
    replica: bool = False,
):
    """Decorator registering ``func`` as ``method1=<name>`` under ``context``."""
    if name.count(".") != 1:
        raise ValueError(f"system API names are <manager>.<function>, not {name!r}")
    if plain_errors not in ("xml", "text"):
        raise ValueError("plain_errors is 'xml' or 'text'")
    if writes and replica:
        raise ValueError("a function that writes never reads from the replica")

    def register(func):
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"system API function {name} is registered twice")
        _REGISTRY[name] = ApiFunction(name, context, func, errors, writes, plain_errors,
                                      replica)
        return func

    return register


def lookup(name: str) -> ApiFunction | None:
    return _REGISTRY.get(name)


def registered() -> dict[str, ApiFunction]:
    """A copy of the table (for docs and tests)."""
    return dict(_REGISTRY)
