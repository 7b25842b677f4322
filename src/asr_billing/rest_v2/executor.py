"""One executor for every adapter that speaks Carbon's method chains over the declared
models: REST v2 (``/rest_api/v2/<Model>/``), the system API's generic ORM calls
(``/system_api/?method1=objects.filter…``) and the deprecated old REST API
(``/rest_api/?hash_key=…``). Each adapter reads its own request, checks its own access and
writes its own envelope; what runs in between — the whitelist (``registry`` and
``models_map``), the chain (``chain``), lookups (``query``) and serialisation
(``serialize``) — is this one function, so a model or a rule declared once answers the
same on every API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError
from asr_billing.rest_v2 import chain, models_map  # noqa: F401  (models_map registers)
from asr_billing.rest_v2.query import check_tables
from asr_billing.rest_v2.registry import ModelSpec, public_specs
from asr_billing.rest_v2.serialize import default_tree, parse_fields, plan_queryset, serialize

DEFAULT_MAX_RESULTS = 1000


@dataclass(frozen=True)
class Query:
    """A chain as an adapter read it: ``steps`` are (method, decoded argument) pairs;
    ``fields`` applies to the object(s) of the last step; ``limit``/``offset`` page a list."""

    spec: ModelSpec
    steps: list[tuple[str, Any]]
    fields: list | None = None
    limit: int | None = None
    offset: int = 0


def max_results(snapshot) -> int:
    """``network['api.rest.max_results']``: the most objects one answer lists."""
    text = snapshot.get("network", "api.rest.max_results")
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_RESULTS


def render(ctx: chain.Context, state: chain.State, fields: list | None, limit: int | None,
           offset: int, cap: int) -> Any:
    """The final state of a chain as the ``result`` value (JSON-able)."""
    if isinstance(state, chain.ValueState):
        return state.value
    spec = state.spec
    check = ctx.read_check
    if check is not None:
        check(spec)  # a method may answer another model (add_payment -> AdminAccounts)
    tree = (parse_fields(spec, fields, read_check=check) if fields is not None
            else default_tree(spec))
    if isinstance(state, chain.ListState):
        count = min(limit or cap, cap)
        rows = check_tables(plan_queryset(spec, state.qs, tree)[offset : offset + count])
        return [serialize(spec, row, tree) for row in rows]
    if isinstance(state, chain.ObjectState):
        planned = plan_queryset(spec, spec.base_queryset().filter(pk=state.obj.pk), tree)
        fresh = check_tables(planned).first()
        return serialize(spec, fresh if fresh is not None else state.obj, tree)
    raise ApplicationError(_("Nothing was called"))


def _writing_names() -> frozenset[str]:
    names = {"save", "objects.create"}
    for spec in public_specs():
        names.update(m.name for m in spec.methods if m.writes)
        names.update(m.name for m in spec.model_methods if m.writes and not m.name.endswith("*"))
    return frozenset(names)


def may_write(steps: list[tuple[str, Any]]) -> bool:
    """Could this chain change data? (Then it runs in a transaction.)"""
    writing = _writing_names()
    return any(method in writing or _cabinet_writes(method) for method, _arg in steps)


def _cabinet_writes(method) -> bool:
    """Does ``web_cabinet.<name>`` write, by the system API's own table? Its logins do not
    run in the chain's transaction: their failed-attempt counters must commit on their own
    and no transaction may be held while a password is hashed (cabinet.throttle)."""
    if not isinstance(method, str) or not method.startswith("web_cabinet."):
        return False
    from asr_billing.system_api.registry import lookup

    entry = lookup(method)
    return entry is None or entry.writes


def execute(ctx: chain.Context, query: Query, *, cap: int) -> Any:
    """Run the chain and answer its ``result`` value; an ApplicationError is the refusal
    (a ``chain.PostRequired`` among them), and then nothing has changed."""
    if not (ctx.writes and may_write(query.steps)):
        # A read: no transaction (on SQLite it would take the write lock at BEGIN).
        state = chain.run(ctx, query.spec, query.steps)
        return render(ctx, state, query.fields, query.limit, query.offset, cap)
    with transaction.atomic():  # any failure undoes every step of the chain
        state = chain.run(ctx, query.spec, query.steps)
        return render(ctx, state, query.fields, query.limit, query.offset, cap)
