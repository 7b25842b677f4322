"""Running a method chain: ``method1``/``arg1`` … ``methodN``/``argN`` applied in turn.

The chain moves through four kinds of state, and in each only the listed methods exist:

- the **model** (start): ``objects.filter``, ``objects.exclude``, ``objects.get``,
  ``objects.all``, ``objects.count``, ``objects.create`` (where declared) and the model's
  own methods (``web_cabinet.*`` on Users, ``get_version`` on Version);
- a **list** (after filter/exclude/all/order_by): ``filter``, ``exclude``, ``get``,
  ``all``, ``order_by``, ``count``, ``first``;
- an **object** (after get/first/create): ``set``, ``save`` and the model's declared
  object methods (``check_pass``, ``add_payment``, …);
- a **value** (anything else): nothing further.

Nothing else is looked up: there is no getattr on user input, so ``delete``, ``update``,
``raw``, ``extra``, ``__class__``, ``_meta`` and every other name are refused with the
list of what is allowed at that point. The executor (``executor.py``) runs a chain that
may write in one transaction: when any step fails, the steps before it are undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError, InvalidInput, NotFound
from asr_billing.rest_v2.query import apply_filter, check_tables, order_paths
from asr_billing.rest_v2.registry import ModelSpec, ReadCheck, spec_named
from asr_billing.rest_v2.values import parse_flag, parse_value, short

MAX_STEPS = 10


class MethodRefused(InvalidInput):
    """A method that does not exist at this point of the chain, or is not allowed."""


class PostRequired(MethodRefused):
    """A method that changes data, sent with GET."""


class WriteRefused(MethodRefused):
    """A method that changes data, through an adapter that only reads (the system API)."""


class Guard(Protocol):
    """Per-model permissions of the caller (the old REST API acts as an operator).
    Both methods raise ``registry.AccessRefused``; ``action`` is "change" or "add"."""

    def read(self, spec: ModelSpec) -> None: ...

    def write(self, spec: ModelSpec, action: str) -> None: ...


@dataclass
class Context:
    """Who calls and how; passed to every method.

    ``api`` names the adapter in audit and ledger rows (``rest_v2:10.0.0.5``). ``writes``
    False refuses every method that changes data (the system API's generic ORM calls only
    read). ``guard``, when set, is asked before each model is read or changed."""

    source_ip: str
    http_method: str = "POST"
    request: Any = None
    api: str = "rest_v2"
    writes: bool = True
    guard: Guard | None = None

    @property
    def actor(self) -> str:
        # Audit rows and ledger rows name the API and the caller's address.
        return f"{self.api}:{self.source_ip}"[:100]

    @property
    def read_check(self) -> ReadCheck | None:
        return self.guard.read if self.guard is not None else None


@dataclass
class ModelState:
    spec: ModelSpec


@dataclass
class ListState:
    spec: ModelSpec
    qs: QuerySet


@dataclass
class ObjectState:
    spec: ModelSpec
    obj: Any
    pending: dict[str, Any] = field(default_factory=dict)


@dataclass
class ValueState:
    value: Any


State = ModelState | ListState | ObjectState | ValueState

MODEL_ORM = ("objects.filter", "objects.exclude", "objects.get", "objects.all", "objects.count")
LIST_METHODS = ("filter", "exclude", "get", "all", "order_by", "count", "first")
OBJECT_ORM = ("set", "save")


def object_arg(arg: Any, method: str) -> dict:
    """A method's argument that must be a JSON object (none, or an empty list: an empty
    one; PHP's json_encode of an empty array is ``[]``, as Carbon's PHP helpers send)."""
    if arg is None or arg == []:
        return {}
    if not isinstance(arg, dict):
        raise MethodRefused(_("%(method)s expects a JSON object") % {"method": method})
    return arg


def _switched(spec: ModelSpec, kwargs: dict, *, exclude: bool = False) -> ModelSpec:
    """Abonents: is_folder=1 means groups, is_folder=0 (or none) subscribers; in an
    exclude it is the other way round (excluding groups leaves subscribers)."""
    if spec.switch is None:
        return spec
    name, targets = spec.switch
    for key in (name, f"{name}__exact"):
        if key in kwargs:
            return spec_named(targets[parse_flag(kwargs[key], name=key) != exclude])
    return spec


def _ordered(spec: ModelSpec) -> QuerySet:
    return spec.base_queryset().order_by(*spec.order)


def _get(spec: ModelSpec, qs: QuerySet) -> ObjectState:
    found = list(check_tables(qs)[:2])
    if not found:
        # Django's wording, which clients of Carbon's Django-based API have seen.
        raise NotFound(_("%(model)s matching query does not exist.") % {"model": spec.wire_name})
    if len(found) > 1:
        raise InvalidInput(
            _("get() returned more than one %(model)s; narrow the lookup")
            % {"model": spec.wire_name}
        )
    return ObjectState(spec, found[0])


def _refuse(method: str, where: str, allowed: list[str]) -> MethodRefused:
    return MethodRefused(
        _('Method "%(method)s" is not allowed on %(where)s (allowed here: %(allowed)s)')
        % {"method": short(method), "where": where, "allowed": ", ".join(allowed) or "-"}
    )


def _refuse_if_read_only(ctx: Context, method: str) -> None:
    if not ctx.writes:
        raise WriteRefused(
            _("%(method)s changes data, and this API only reads; write through REST API v2")
            % {"method": short(method)}
        )


def _require_write(ctx: Context, spec: ModelSpec, method: str, *, action: str = "change") -> None:
    """Every method that changes data passes here first."""
    _refuse_if_read_only(ctx, method)
    if ctx.http_method != "POST":
        raise PostRequired(
            _("%(method)s changes data: send the request with POST") % {"method": method}
        )
    if ctx.guard is not None:
        ctx.guard.write(spec, action)


def _check_read(ctx: Context, spec: ModelSpec) -> None:
    if ctx.guard is not None:
        ctx.guard.read(spec)


def _on_model(ctx: Context, state: ModelState, method: str, arg: Any) -> State:
    spec = state.spec
    if method in MODEL_ORM and spec.model is not None:
        kwargs = object_arg(arg, method) if method in ("objects.filter", "objects.exclude",
                                                    "objects.get") else {}
        spec = _switched(spec, kwargs, exclude=method == "objects.exclude")
        _check_read(ctx, spec)
        qs = _ordered(spec)
        check = ctx.read_check
        if method == "objects.get":
            return _get(spec, apply_filter(spec, qs, kwargs, read_check=check))
        if method == "objects.count":
            return ValueState(check_tables(qs).count())
        if method == "objects.all":
            return ListState(spec, qs)
        return ListState(spec, apply_filter(spec, qs, kwargs, exclude=method == "objects.exclude",
                                            read_check=check))
    if method == "objects.create" and spec.create is not None:
        _require_write(ctx, spec, method, action="add")
        return ObjectState(spec, spec.create(ctx, spec, _create_values(spec, arg)))
    declared = spec.model_method(method)
    if declared is None:
        declared = spec.model_method_for(method)
    if declared is not None:
        if declared.writes:
            _require_write(ctx, spec, method)
        else:
            _check_read(ctx, spec)
        return _as_state(declared.func(ctx, spec, None, arg, method))
    allowed = list(MODEL_ORM) if spec.model is not None else []
    allowed += ["objects.create"] if spec.create else []
    allowed += [m.name for m in spec.model_methods]
    raise _refuse(method, spec.name, allowed)


def _on_list(ctx: Context, state: ListState, method: str, arg: Any) -> State:
    spec, qs = state.spec, state.qs
    check = ctx.read_check
    if method in ("filter", "exclude"):
        return ListState(spec, apply_filter(spec, qs, object_arg(arg, method),
                                            exclude=method == "exclude", read_check=check))
    if method == "get":
        return _get(spec, apply_filter(spec, qs, object_arg(arg, method), read_check=check))
    if method == "all":
        return state
    if method == "order_by":
        return ListState(spec, qs.order_by(*order_paths(spec, arg, read_check=check)))
    if method == "count":
        return ValueState(check_tables(qs).count())
    if method == "first":
        found = check_tables(qs).first()
        return ObjectState(spec, found) if found is not None else ValueState(None)
    raise _refuse(method, _("a list of %(model)s") % {"model": spec.name}, list(LIST_METHODS))


def _create_values(spec: ModelSpec, arg: Any) -> dict:
    kwargs = object_arg(arg, "objects.create")
    values = {}
    for key, value in kwargs.items():
        if key not in spec.create_fields:
            raise MethodRefused(
                _('objects.create cannot set "%(field)s" of %(model)s (allowed: %(allowed)s)')
                % {"field": short(key), "model": spec.name,
                   "allowed": ", ".join(spec.create_fields)}
            )
        values[key] = parse_value(spec.field(key).type, value, name=key)
    missing = [name for name in spec.create_fields if values.get(name) is None]
    if missing:
        raise InvalidInput(
            _("objects.create needs %(fields)s") % {"fields": ", ".join(missing)}
        )
    return values


def _set(state: ObjectState, arg: Any) -> ObjectState:
    spec = state.spec
    kwargs = object_arg(arg, "set")
    if not kwargs:
        raise MethodRefused(_("set needs at least one field"))
    pending = dict(state.pending)
    for key, value in kwargs.items():
        name = key
        relation = spec.relation(key) if isinstance(key, str) else None
        if relation is not None and spec.field(f"{key}_id") is not None:
            name = f"{key}_id"  # {"tarif_next": 1119} means {"tarif_next_id": 1119}
        declared = spec.field(name) if isinstance(name, str) else None
        if declared is None:
            raise MethodRefused(
                _('Unknown field "%(field)s" for %(model)s') % {"field": short(key),
                                                                "model": spec.name}
            )
        if declared.writer is None:
            writable = ", ".join(spec.writable_fields()) or "-"
            raise MethodRefused(
                _("%(model)s.%(field)s is read-only (writable: %(writable)s)")
                % {"model": spec.name, "field": declared.name, "writable": writable}
            )
        pending[declared.name] = parse_value(declared.type, value, name=declared.name)
    return ObjectState(spec, state.obj, pending)


def _save(ctx: Context, state: ObjectState) -> ObjectState:
    spec = state.spec
    groups: dict[str, dict[str, Any]] = {}
    for name, value in state.pending.items():
        groups.setdefault(spec.field(name).writer, {})[name] = value
    obj = state.obj
    for writer, changes in groups.items():
        result = spec.writers[writer](ctx, obj, changes)
        if result is not None:
            obj = result
    return ObjectState(spec, obj)


def _on_object(ctx: Context, state: ObjectState, method: str, arg: Any) -> State:
    spec = state.spec
    if method == "set":
        _refuse_if_read_only(ctx, method)  # a set that could never be saved is a mistake
        return _set(state, arg)
    if method == "save":
        _require_write(ctx, spec, method)
        return _save(ctx, state)
    declared = spec.method(method)
    if declared is None:
        allowed = (list(OBJECT_ORM) if spec.writers else []) + [m.name for m in spec.methods]
        raise _refuse(method, _("an object of %(model)s") % {"model": spec.name}, allowed)
    if declared.writes:
        _require_write(ctx, spec, method)
    if state.pending:
        raise MethodRefused(
            _("Call save before %(method)s: set left unsaved changes") % {"method": method}
        )
    return _as_state(declared.func(ctx, spec, state.obj, arg, method))


def _as_state(result: Any) -> State:
    if isinstance(result, (ModelState, ListState, ObjectState, ValueState)):
        return result
    return ValueState(result)


def step(ctx: Context, state: State, method: str, arg: Any) -> State:
    if isinstance(state, ModelState):
        return _on_model(ctx, state, method, arg)
    if isinstance(state, ListState):
        return _on_list(ctx, state, method, arg)
    if isinstance(state, ObjectState):
        return _on_object(ctx, state, method, arg)
    raise MethodRefused(
        _('Method "%(method)s" cannot be called on a plain value') % {"method": short(method)}
    )


def run(ctx: Context, spec: ModelSpec, steps: list[tuple[str, Any]]) -> State:
    if not steps:
        raise InvalidInput(_("method1 is required"))
    if len(steps) > MAX_STEPS:
        raise InvalidInput(_("At most %(n)d methods in a chain") % {"n": MAX_STEPS})
    state: State = ModelState(spec)
    for index, (method, arg) in enumerate(steps, start=1):
        try:
            state = step(ctx, state, method, arg)
        except ApplicationError as exc:
            if len(steps) > 1:
                exc.message = f"method{index} {short(method)}: {exc.message}"
            raise
    return state
