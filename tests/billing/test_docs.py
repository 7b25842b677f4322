"""Every billing key of cfg/config is documented for the operator, with its default."""

from __future__ import annotations

from pathlib import Path

from asr_billing.core.config import SCHEMA

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_billing_key_is_documented_with_its_default():
    configuration = (DOCS / "configuration.md").read_text(encoding="utf-8")
    billing = (DOCS / "billing.md").read_text(encoding="utf-8")
    keys = [(k, spec) for (section, k), spec in SCHEMA.items() if section == "billing"]
    assert len(keys) == 14
    for key, spec in keys:
        row = f"| `billing['{key}']` | `{spec.default}` |"
        assert row in configuration, key
        assert row in billing, key


def test_every_default_passes_its_validator():
    for (_section, _key), spec in SCHEMA.items():
        if spec.validator is not None:
            spec.validator(spec.default)
