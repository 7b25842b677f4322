"""Translating Carbon lookups (``{"abonent__pk": "1", "op_date__range": [...]}``) into ORM
filters over the declared fields only.

A key is ``<field>`` or ``<field>__<lookup>``, where the field may be reached across
declared relations (``usluga__name``, ``abonent__tarif__name__icontains``). A relation
named on its own compares its primary key (``{"abonent": 5}``). Anything not declared —
an unknown field, a private name, a secret column, a lookup outside the field's list —
is refused with an error naming it, before any query runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput
from asr_billing.rest_v2.registry import (
    ALL_LOOKUPS,
    KNOWN_DJANGO_LOOKUPS,
    MAX_RELATION_DEPTH,
    MAX_TABLES,
    Field,
    ModelSpec,
    ReadCheck,
    spec_named,
)
from asr_billing.rest_v2.values import parse_flag, parse_value, short

MAX_IN_ITEMS = 1000
MAX_CONDITIONS = 50
MAX_ORDER_NAMES = 10


class LookupRefused(InvalidInput):
    """A filter, exclude, get or order_by argument that the whitelist does not allow."""


@dataclass(frozen=True)
class Resolved:
    spec: ModelSpec  # the model the field belongs to
    field: Field
    lookup: str
    hops: tuple[str, ...]  # ORM paths of the relations crossed
    many: bool  # a reverse relation was crossed: the result needs distinct()


def _unknown(spec: ModelSpec, key: str) -> LookupRefused:
    return LookupRefused(
        _('Unknown field "%(key)s" for %(model)s') % {"key": short(key), "model": spec.name}
    )


def resolve(spec: ModelSpec, key: Any, *, allow_lookup: bool = True,
            read_check: ReadCheck | None = None) -> Resolved:
    """Walk ``key`` through the declared relations to a declared field and a lookup;
    ``read_check`` sees every model a relation leads to."""
    if not isinstance(key, str) or not key:
        raise _unknown(spec, str(key))
    parts = key.split("__")
    current, hops, many, i = spec, [], False, 0
    while True:
        part = parts[i]
        relation = current.relation(part)
        if relation is not None:
            hops.append(relation.path)
            if len(hops) > MAX_RELATION_DEPTH:
                raise LookupRefused(
                    _('"%(key)s" goes deeper than %(n)d relations')
                    % {"key": short(key), "n": MAX_RELATION_DEPTH}
                )
            many = many or relation.many
            current = spec_named(relation.target)
            if read_check is not None:
                read_check(current)
            i += 1
            rest = parts[i:]
            if not rest:
                return Resolved(current, current.field("id"), "exact", tuple(hops), many)
            if len(rest) == 1 and current.field(rest[0]) is None and current.relation(
                rest[0]
            ) is None:
                # {"abonent__in": [...]}: a lookup on the relation's primary key.
                return _checked(spec, key, current, current.field("id"), rest[0], hops, many,
                                allow_lookup)
            continue
        field = current.field(part)
        if field is None:
            raise _unknown(spec, key)
        rest = parts[i + 1 :]
        if len(rest) > 1:
            raise _unknown(spec, key)
        lookup = rest[0] if rest else "exact"
        return _checked(spec, key, current, field, lookup, hops, many, allow_lookup)


def _checked(spec, key, current, field, lookup, hops, many, allow_lookup) -> Resolved:
    if lookup != "exact" and not allow_lookup:
        raise _unknown(spec, key)
    if lookup not in ALL_LOOKUPS | KNOWN_DJANGO_LOOKUPS:
        raise _unknown(spec, key)
    allowed = field.allowed_lookups
    if not allowed:
        raise LookupRefused(
            _('Field "%(field)s" of %(model)s cannot be used in a filter')
            % {"field": field.name, "model": current.name}
        )
    if lookup not in allowed:
        raise LookupRefused(
            _('Lookup "%(lookup)s" is not allowed on %(model)s.%(field)s (allowed: %(list)s)')
            % {
                "lookup": lookup,
                "model": current.name,
                "field": field.name,
                "list": ", ".join(sorted(allowed)),
            }
        )
    if hops and field.path is None:
        raise LookupRefused(
            _('Field "%(field)s" of %(model)s cannot be filtered across a relation')
            % {"field": field.name, "model": current.name}
        )
    return Resolved(current, field, lookup, tuple(hops), many)


def _coerce(resolved: Resolved, key: str, value: Any) -> tuple[str, Any]:
    """-> (lookup, value) with the value in the field's Python type."""
    field, lookup = resolved.field, resolved.lookup
    if lookup == "isnull":
        return lookup, parse_flag(value, name=key)
    if lookup in ("in", "range"):
        if not isinstance(value, list):
            raise LookupRefused(_("%(key)s expects a JSON list") % {"key": key})
        if lookup == "range" and len(value) != 2:
            raise LookupRefused(_("%(key)s expects a list of two values") % {"key": key})
        if len(value) > MAX_IN_ITEMS:
            raise LookupRefused(
                _("%(key)s: at most %(n)d values") % {"key": key, "n": MAX_IN_ITEMS}
            )
        items = [parse_value(field.type, item, name=key) for item in value]
        if any(item is None for item in items):
            raise LookupRefused(_("%(key)s: null is not a value to compare with") % {"key": key})
        return lookup, items
    if value is None:  # before icontains: Django refuses None for every lookup but exact
        if lookup != "exact":
            raise LookupRefused(_("%(key)s: null is not a value to compare with") % {"key": key})
        return "isnull", True
    if lookup == "icontains":
        return lookup, parse_value("str", value, name=key)
    return lookup, parse_value(field.type, value, name=key)


def condition(spec: ModelSpec, key: str, value: Any, *,
              read_check: ReadCheck | None = None) -> tuple[Q, dict, bool]:
    """One filter argument -> (Q, aliases to add to the queryset, needs distinct)."""
    resolved = resolve(spec, key, read_check=read_check)
    lookup, parsed = _coerce(resolved, key, value)
    field = resolved.field
    if field.q is not None:
        return field.q(lookup, parsed), {}, resolved.many
    if field.alias is not None:
        name = f"rv_{field.name}"
        return Q(**{f"{name}__{lookup}": parsed}), {name: field.alias()}, resolved.many
    path = "__".join((*resolved.hops, field.path))
    return Q(**{f"{path}__{lookup}": parsed}), {}, resolved.many


def apply_filter(spec: ModelSpec, qs: QuerySet, kwargs: Any, *, exclude: bool = False,
                 read_check: ReadCheck | None = None) -> QuerySet:
    if not isinstance(kwargs, dict):
        raise LookupRefused(_("The argument must be a JSON object of field lookups"))
    if len(kwargs) > MAX_CONDITIONS:
        raise LookupRefused(_("At most %(n)d conditions") % {"n": MAX_CONDITIONS})
    combined, aliases, distinct = Q(), {}, False
    for key, value in kwargs.items():
        q, alias, many = condition(spec, key, value, read_check=read_check)
        combined &= q
        aliases.update(alias)
        distinct = distinct or many
    if aliases:
        qs = qs.alias(**aliases)
    qs = qs.exclude(combined) if exclude else qs.filter(combined)
    return qs.distinct() if distinct else qs


def check_tables(qs: QuerySet) -> QuerySet:
    """``qs`` unchanged, or a refusal when it would join more than MAX_TABLES tables; call
    it before the query runs. Counted on the compiled query, so the joins of the
    conditions (each filter step over a reverse relation adds its own), of order_by and of
    the relations ``fields`` loads all count."""
    query = qs.query.clone()
    query.get_compiler(qs.db).pre_sql_setup()
    tables = sum(1 for alias in query.alias_map if query.alias_refcount[alias])
    if tables > MAX_TABLES:
        raise LookupRefused(
            _("The query would join %(n)d tables, at most %(max)d: cross fewer relations in "
              "the conditions, order_by and fields") % {"n": tables, "max": MAX_TABLES}
        )
    return qs


def order_paths(spec: ModelSpec, names: Any, *, read_check: ReadCheck | None = None) -> list[str]:
    """order_by arguments ("name", "-op_date", "tarif__name") -> ORM order paths."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names:
        raise LookupRefused(_('order_by expects a JSON list of field names such as ["-id"]'))
    if len(names) > MAX_ORDER_NAMES:
        raise LookupRefused(_("order_by takes at most %(n)d names") % {"n": MAX_ORDER_NAMES})
    paths = []
    for name in names:
        if not isinstance(name, str):
            raise _unknown(spec, str(name))
        descending = name.startswith("-")
        key = name[1:] if descending else name
        refusal = LookupRefused(
            _('%(model)s cannot be ordered by "%(name)s"') % {"model": spec.name,
                                                             "name": short(key)}
        )
        try:
            resolved = resolve(spec, key, allow_lookup=False, read_check=read_check)
        except LookupRefused:
            raise refusal from None
        if resolved.many or resolved.field.path is None:
            raise refusal
        path = "__".join((*resolved.hops, resolved.field.path))
        paths.append(("-" if descending else "") + path)
    return paths
