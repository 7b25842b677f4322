"""The worked example of docs/payments.md ("Reconciliation") runs as printed: the demo's
sberbank.demo gateway, its two payments through the wire, docs/examples/sberbank-registry.txt
and the three runs of the command with their exact output and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from asr_billing.finance.models import PaymentOperator
from tests.finance.test_reconcile_command import reconcile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "sberbank-registry.txt"


def documented_outputs() -> list[list[str]]:
    text = (DOCS / "payments.md").read_text(encoding="utf-8")
    section = text.split("### A worked example against the demo", 1)[1].split("\n## ", 1)[0]
    blocks, current = [], None
    for line in section.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return [block for block in blocks if block and block[0].startswith("Reconciliation #")]


def numbers_out(lines: list[str]) -> list[str]:
    return [re.sub(r"#\d+", "#N", line) for line in lines]


def test_the_worked_example_prints_what_the_docs_show(client, make_subscriber):
    PaymentOperator.objects.create(code="SBERBANK_DEMO", name="Sberbank demo")
    make_subscriber(contract_number="BILL0000003")
    paid = client.post("/pay/sberbank/demo/", {
        "command": "pay", "txn_id": "2001", "account": "BILL0000003", "sum": "150.00",
        "txn_date": "20240501120000"})
    assert b"<result>0</result>" in paid.content
    paid = client.get("/pay/sberbank/demo/", {
        "ACTION": "payment", "ACCOUNT": "BILL0000003", "AMOUNT": "200.00", "PAY_ID": "3001",
        "PAY_DATE": "01.05.2024_12:32:00"})
    assert b"<CODE>0</CODE>" in paid.content
    runs = []
    # The docs show the command with app['language'] = 'en'; the requests above left the
    # default language (Russian) active, as LocaleMiddleware does, so English again.
    with translation.override("en"):
        for post_missing in (False, True, False):
            code, out, error = reconcile(gateway="sberbank.demo", file=str(EXAMPLE),
                                         post_missing=post_missing)
            runs.append(numbers_out(out + ([f"error: {error}"] if error else [])
                                    + [f"exit {code}"]))
    assert runs == [numbers_out(block) for block in documented_outputs()]


def test_the_documented_csv_settings_read_the_documented_csv(config_edit):
    import shlex
    from datetime import datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from asr_billing.core import runtime
    from asr_billing.finance.reconcile_config import registry_source
    from asr_billing.finance.reconcile_registry import registry_parse

    text = (DOCS / "payments.md").read_text(encoding="utf-8")
    section = text.split("### A CSV registry", 1)[1].split("\n### ", 1)[0]
    blocks = section.split("```")
    sample, commands = blocks[1].strip("\n"), blocks[3]
    for line in commands.strip().splitlines()[1:]:  # after the fence's "sh"
        _prog, _config, _set, section_name, key, value = shlex.split(line)
        config_edit(section_name, key, value)
    source = registry_source("webhook.demo")
    registry = registry_parse(sample.encode("cp1251"), settings=source.settings,
                              time_zone=runtime.current().time_zone)
    assert [(r.txn_id, r.account, r.amount, r.fee, r.paid_at) for r in registry.rows] == [
        ("w-1001", "BILL0000003", Decimal("100.00"), Decimal("2.50"),
         datetime(2024, 5, 1, 10, 15, tzinfo=ZoneInfo("Europe/Moscow")))]
