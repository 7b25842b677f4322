"""Helpers for the system API tests: raw URLs as clients send them, live config edits,
and a fingerprint of the database to prove that a refusal changed nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db.models import Sum

from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation
from asr_billing.network.models import Login
from asr_billing.subscribers.models import Subscriber

PASSWORDS = {"collector": "collectortestpsw", "asr_fiscal": "fiscalpsw123", "api_1c": "1ctestpsw"}


def url(method1: str, arg1=None, *, context: str, psw: str | None = "", model="Abonents",
        fmt: str | None = None, encode: bool = False, **extra) -> str:
    """A /system_api/ URL the way clients glue it: arg1 as raw JSON unless ``encode``."""
    if psw == "":
        psw = PASSWORDS.get(context)
    if arg1 is None:
        arg1_text = None
    elif isinstance(arg1, str):
        arg1_text = arg1
    else:
        arg1_text = json.dumps(arg1, ensure_ascii=False)
    parts = [f"model={model}", f"method1={method1}"]
    if arg1_text is not None:
        parts.append("arg1=" + (quote(arg1_text, safe="") if encode else arg1_text))
    parts.append(f"context={context}")
    if psw is not None:
        parts.append(f"psw={psw}")
    if fmt is not None:
        parts.append(f"format={fmt}")
    parts.extend(f"{k}={v}" for k, v in extra.items())
    return "/system_api/?" + "&".join(parts)


@pytest.fixture
def call_api(client):
    """GET a system API URL; returns the response (``.json()`` works for JSON answers)."""

    def call(method1: str, arg1=None, *, context: str, **kwargs):
        remote = kwargs.pop("remote_addr", "127.0.0.1")
        headers = kwargs.pop("headers", {})
        return client.get(url(method1, arg1, context=context, **kwargs), REMOTE_ADDR=remote,
                          headers=headers)

    return call


def db_state() -> tuple:
    """A fingerprint of everything an API call could change."""
    return (
        Operation.objects.count(),
        Subscriber.objects.count(),
        Login.objects.count(),
        AuditEntry.objects.count(),
        Account.objects.aggregate(s=Sum("balance"))["s"] or Decimal("0"),
        tuple(Subscriber.objects.order_by("pk").values_list("code1c", "synced_1c", "name")),
        tuple(Operation.objects.order_by("pk").values_list("code1c", "synced_1c")),
    )


@pytest.fixture(autouse=True)
def english(config_edit, settings):
    """Our own (non-product) texts are compared in English (locale/ru translates them);
    the product's Russian wire texts are constants. The config sets the language of
    requests; LANGUAGE_CODE that of code called directly by a test."""
    config_edit("app", "language", "en")
    settings.LANGUAGE_CODE = "en"
