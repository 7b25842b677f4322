"""/health and /ready."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from asr_billing.core import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_migration_check(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)


def test_health_answers_without_the_database(monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", down)
    answer = Client().get("/health")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert "no-cache" in answer["Cache-Control"]


def test_ready_when_everything_holds():
    answer = Client().get("/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": {
        "database": "ok", "migrations": "ok", "config": "ok"}}


def test_not_ready_without_the_database(monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", down)
    answer = Client().get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] == "unavailable"
    assert answer.json()["checks"]["migrations"] == "unknown"


def test_not_ready_with_a_pending_migration(monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan",
                        lambda self, targets: [("api", "0002_future")])
    answer = Client().get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"] == "1 pending"


def test_not_ready_while_cfg_config_does_not_parse(config_edit, settings):
    good = settings.ASR_HOME.config_file.read_text(encoding="utf-8")
    Client().get("/ready")  # the good file is in force
    config_edit.write_raw("app['language']='ru\n")
    answer = Client().get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["config"].startswith("not applied: ")
    config_edit.write_raw(good)  # a good file again
    assert Client().get("/ready").status_code == 200


def test_only_get():
    assert Client().post("/ready").status_code == 405
    assert Client().post("/health").status_code == 405


def test_forwarded_proto_is_believed_from_a_trusted_proxy_only(config_edit):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from asr_billing.core.middleware import RuntimeConfigMiddleware

    seen = {}

    def view(request):
        seen["secure"] = request.is_secure()
        return HttpResponse()

    middleware = RuntimeConfigMiddleware(view)
    factory = RequestFactory()
    middleware(factory.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="198.51.100.7"))
    assert seen["secure"] is False
    config_edit("network", "api.trusted_proxies", "198.51.100.7")
    middleware(factory.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="198.51.100.7"))
    assert seen["secure"] is True
