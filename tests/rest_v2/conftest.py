"""Fixtures for REST v2 tests: a caller that builds method chains, config edits, and a
fingerprint of everything a request could change."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from asr_billing.subscribers.models import Attribute

ACTOR = "test"


def form(*steps, fields=None, **extra) -> dict:
    """(method, arg) pairs -> method1/arg1 … form fields; args that are not strings are
    JSON-encoded."""
    data = {}
    for number, (method, arg) in enumerate(steps, start=1):
        data[f"method{number}"] = method
        if arg is not None:
            data[f"arg{number}"] = arg if isinstance(arg, str) else json.dumps(arg)
    if fields is not None:
        data["fields"] = fields if isinstance(fields, str) else json.dumps(fields)
    data.update({k: str(v) for k, v in extra.items()})
    return data


@pytest.fixture
def rest(client):
    """POST a chain to /rest_api/v2/<model>/; returns (status, decoded JSON)."""

    def call(model, *steps, fields=None, get=False, remote="127.0.0.1", headers=None, **extra):
        data = form(*steps, fields=fields, **extra)
        send = client.get if get else client.post
        response = send(f"/rest_api/v2/{model}/", data, REMOTE_ADDR=remote,
                        headers=headers or {})
        return response.status_code, response.json()

    return call


@pytest.fixture(autouse=True)
def english(config_edit):
    """Our own texts are compared in English (Russian translations may land any time)."""
    config_edit("app", "language", "en")


@pytest.fixture
def attributes(db):
    for pk, code, name in [(4, "inn", "ИНН"), (1012, "telegram_id", "Telegram ID")]:
        Attribute.objects.get_or_create(pk=pk, defaults={"code": code, "name": name})


def db_state() -> dict:
    """Everything a REST v2 request could change; compare before and after a refusal."""
    from asr_billing.billing.models import VoluntaryBlock
    from asr_billing.core.models import AuditEntry
    from asr_billing.finance.models import Account, Operation
    from asr_billing.network.models import Login
    from asr_billing.subscribers.models import AttributeValue, Subscriber

    return {
        "operations": list(Operation.objects.order_by("pk").values_list(
            "pk", "type", "amount", "balance_after", "reverses_id")),
        "accounts": list(Account.objects.order_by("pk").values_list(
            "pk", "balance", "credit_limit", "promised_amount")),
        "subscribers": list(Subscriber.objects.order_by("pk").values_list(
            "pk", "name", "contract_number", "tariff_id", "tariff_next_id", "tariff_next_date",
            "sms_phone", "email", "apartment", "phone", "admin_blocked", "voluntary_blocked",
            "negbal")),
        "logins": list(Login.objects.order_by("pk").values_list(
            "pk", "login", "password_enc", "enabled", "ip", "mac", "nas_id")),
        "attributes": list(AttributeValue.objects.order_by("pk").values_list(
            "pk", "subscriber_id", "attribute_id", "value")),
        "blocks": list(VoluntaryBlock.objects.order_by("pk").values_list(
            "pk", "start_date", "end_date", "ended_at")),
        "audit": AuditEntry.objects.count(),
    }


MONEY = Decimal
