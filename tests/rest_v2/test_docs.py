"""docs/rest-api-v2.md names every declared model, field, relation and method."""

from __future__ import annotations

import re
from pathlib import Path

from asr_billing.rest_v2.registry import public_specs

DOC = Path(__file__).resolve().parents[2] / "docs" / "rest-api-v2.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.MULTILINE)
    return {part.split("\n", 1)[0].strip(): part for part in parts[1:]}


def test_every_model_field_relation_and_method_is_documented():
    found = sections()
    for spec in public_specs():
        assert spec.name in found, spec.name
        section = found[spec.name]
        names = [f.name for f in spec.fields] + [r.name for r in spec.relations]
        names += [m.name.rstrip(".*") for m in (*spec.methods, *spec.model_methods)]
        for name in names:
            assert f"`{name}" in section, f"{spec.name}.{name}"
        assert "curl " in section, spec.name


def test_the_configuration_keys_are_documented():
    text = (DOC.parent / "configuration.md").read_text(encoding="utf-8")
    assert "`network['api.rest.key']`" in text
    assert "`network['api.rest.max_results']`" in text
