"""``GET /rest_api/v2/``: the declared models, generated from the registry so the list can
never disagree with what the API accepts."""

from __future__ import annotations

from asr_billing.rest_v2.registry import LOOKUPS_ORDERED, Method, ModelSpec, public_specs


def _method(method: Method) -> dict:
    return {"args": method.args, "returns": method.returns, "writes": method.writes,
            "doc": method.doc}


def describe_model(spec: ModelSpec) -> dict:
    fields = {}
    for field in spec.fields:
        allowed = field.allowed_lookups
        fields[field.name] = {
            "type": field.type,
            "doc": field.doc,
            "lookups": [name for name in LOOKUPS_ORDERED if name in allowed],
            "writable": field.writer is not None,
            "default": field.default,
        }
    return {
        "doc": spec.doc,
        "fields": fields,
        "relations": {
            r.name: {"model": r.target if r.target != "AbonentGroups" else "Abonents",
                     "many": r.many, "doc": r.doc}
            for r in spec.relations
        },
        "object_methods": {m.name: _method(m) for m in spec.methods},
        "model_methods": {m.name: _method(m) for m in spec.model_methods},
        "create": list(spec.create_fields),
        "order": list(spec.order),
    }


def describe_models() -> dict:
    return {spec.name: describe_model(spec) for spec in public_specs()}
