"""Objects as REST v2 sends them: ``{"pk", "model", "fields"}``, with ``fields`` choosing
what to include and expanding relations at any depth.

``fields=["tarif"]`` embeds the tariff with its default fields and adds ``tarif_id``;
``fields=["tarif__name"]`` embeds the tariff with only ``name``; ``fields=["users__ip"]``
embeds the list of logins with only ``ip``. Without ``fields`` an object carries its
model's default fields (scalars and ``<relation>_id``s, no embedded objects).

Loading is planned from the same tree: single relations become ``select_related``,
reverse relations and the data computed fields read become one ``prefetch_related``
query each. A list therefore costs a fixed number of queries whatever its length.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput
from asr_billing.rest_v2.registry import (
    MAX_RELATION_DEPTH,
    Field,
    ModelSpec,
    ReadCheck,
    spec_named,
)
from asr_billing.rest_v2.values import render_value, short

DEFAULTS = "*"  # marker in a tree node: include the model's default fields
MAX_FIELDS = 100


class FieldsRefused(InvalidInput):
    """The ``fields`` parameter names something that is not declared."""


def parse_fields(spec: ModelSpec, names: Any, *, read_check: ReadCheck | None = None) -> dict:
    """The ``fields`` list -> a tree {name: None | subtree}; relations get subtrees.
    ``read_check`` sees every model an embedded relation leads to."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FieldsRefused(_('fields must be a JSON list of field names such as ["name"]'))
    if len(names) > MAX_FIELDS:
        raise FieldsRefused(_("At most %(n)d fields") % {"n": MAX_FIELDS})
    tree: dict = {}
    for name in names:
        parts = name.split("__")
        if len(parts) > MAX_RELATION_DEPTH + 1:
            raise FieldsRefused(
                _('"%(name)s" goes deeper than %(n)d relations')
                % {"name": short(name), "n": MAX_RELATION_DEPTH}
            )
        node, current = tree, spec
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            relation = current.relation(part)
            if relation is not None:
                sub = node.get(part)
                if not isinstance(sub, dict):
                    sub = node[part] = {}
                if last:
                    sub[DEFAULTS] = True
                node, current = sub, spec_named(relation.target)
                if read_check is not None:
                    read_check(current)
                continue
            field = current.field(part)
            if field is None or not last:
                raise FieldsRefused(
                    _('Unknown field "%(name)s" for %(model)s')
                    % {"name": short(name), "model": spec.name}
                )
            node[field.name] = None
    return tree


def default_tree(spec: ModelSpec) -> dict:
    return {DEFAULTS: True}


def _effective(spec: ModelSpec, node: dict) -> dict:
    """Names to render at this level, defaults first, in declaration/request order."""
    result: dict = {}
    if node.get(DEFAULTS):
        for name in spec.default_field_names():
            result[name] = None
    for name, sub in node.items():
        if name != DEFAULTS:
            result[name] = sub
    return result


def _field_needs(field: Field, prefix: str, select: set, prefetch: dict) -> None:
    if field.path is not None and "__" in field.path:
        parent = field.path.rsplit("__", 1)[0]
        select.add(prefix + parent)
    for path in field.select:
        select.add(prefix + path)
    for need in field.prefetch:
        key = f"{prefix}{need.lookup}>{need.to_attr}"
        if key not in prefetch:
            prefetch[key] = Prefetch(
                prefix + need.lookup, queryset=need.queryset(), to_attr=need.to_attr
            )


def _plan(spec: ModelSpec, node: dict, prefix: str, select: set, prefetch: dict) -> None:
    for name, sub in _effective(spec, node).items():
        relation = spec.relation(name)
        if relation is None:
            _field_needs(spec.field(name), prefix, select, prefetch)
            continue
        target = spec_named(relation.target)
        if relation.many:
            inner = plan_queryset(target, target.base_queryset().order_by(*target.order), sub)
            prefetch[f"{prefix}{relation.path}>{relation.to_attr}"] = Prefetch(
                prefix + relation.path, queryset=inner, to_attr=relation.to_attr
            )
        else:
            select.add(prefix + relation.path)
            _plan(target, sub, f"{prefix}{relation.path}__", select, prefetch)
        id_field = spec.field(f"{name}_id")
        if id_field is not None:
            _field_needs(id_field, prefix, select, prefetch)


def plan_queryset(spec: ModelSpec, qs: QuerySet, tree: dict) -> QuerySet:
    """Add the select_related/prefetch_related the tree needs."""
    select: set = set()
    prefetch: dict = {}
    _plan(spec, tree, "", select, prefetch)
    if select:
        qs = qs.select_related(*sorted(select))
    if prefetch:
        qs = qs.prefetch_related(*prefetch.values())
    return qs


def walk(obj: Any, path: str) -> Any:
    """Follow an ORM path on loaded objects; a missing link gives None."""
    for part in path.split("__"):
        if obj is None:
            return None
        if part == "pk":
            obj = obj.pk
            continue
        try:
            obj = getattr(obj, part)
        except ObjectDoesNotExist:
            return None
    return obj


def field_value(field: Field, obj: Any) -> Any:
    raw = field.value(obj) if field.value is not None else walk(obj, field.path)
    return render_value(field.type, raw)


def serialize(spec: ModelSpec, obj: Any, tree: dict) -> dict:
    fields: dict = {}
    for name, sub in _effective(spec, tree).items():
        relation = spec.relation(name)
        if relation is None:
            fields[name] = field_value(spec.field(name), obj)
            continue
        target = spec_named(relation.target)
        if relation.many:
            items = getattr(obj, relation.to_attr, None)
            if items is None:  # not planned (a single object re-read): load it now
                items = getattr(obj, relation.path).all().order_by(*target.order)
            fields[name] = [serialize(target, item, sub) for item in items]
        else:
            related = walk(obj, relation.path)
            fields[name] = serialize(target, related, sub) if related is not None else None
        id_field = spec.field(f"{name}_id")
        if id_field is not None:
            fields[id_field.name] = field_value(id_field, obj)
    return {"pk": obj.pk, "model": spec.wire_name, "fields": fields}
