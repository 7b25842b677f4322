"""docs/configuration.md describes every key the config schema knows, with its default,
and the parser's refusals an operator meets."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr_billing.core.config import SCHEMA, ConfigError, ConfigFile

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")

CONFIGURATION = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_schema_key_has_a_row_with_its_default():
    text = CONFIGURATION.read_text(encoding="utf-8")
    missing = []
    for (section, key), spec in SCHEMA.items():
        default = f"`{spec.default}`" if spec.default else "empty"
        if f"| `{section}['{key}']` | {default} |" not in text:
            missing.append(f"{section}['{key}']")
    assert missing == []


def test_the_refusals_of_the_parser_are_documented():
    text = CONFIGURATION.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ConfigFile.parse("app['home']=~/billing\n", "cfg/config")
    assert str(info.value) == "cfg/config:1: '~' would be expanded by bash; quote the value with '"
    assert "unquoted `~`" in text
    assert "names the line" in text  # config set's errors, like the reader's


def test_the_readme_lists_every_command():
    import argparse

    from asr_billing.cli import _parser

    readme = (CONFIGURATION.parents[1] / "README.md").read_text(encoding="utf-8")
    [commands] = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [name for name in commands.choices if f"| `asr-billing {name}" not in readme]
    assert missing == []
