"""/health and /ready for load balancers, systemd watchdogs and orchestrators.

- ``GET /health``: the process answers (no database, no file): 200 ``{"status": "ok"}``.
- ``GET /ready``: this node can serve: the database answers ``SELECT 1``, no migration is
  pending, and cfg/config on disk is the config in force (a file that does not parse is
  kept out of force — the last good one runs — and /ready says why). 200 when all hold,
  else 503 with each check. Cheap: one round trip and a stat of cfg/config; the migration
  check reads the migration graph once per process and, once all are applied, trusts that
  (migrations are applied by `asr-billing serve` at start or `manage migrate`).
  With app['db.replica_url'], ``replica`` says whether the lists are read there; a replica
  that is away or behind does not make the node unready (the primary takes its reads).

Both answer anyone (no secrets in them) and stay out of the access log's hot paths.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from asr_billing.core import replica, runtime

logger = logging.getLogger("asr_billing.health")
_migrated = False


@never_cache
@require_GET
def health(request):
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("ready: database unavailable: %s", exc)
        return "unavailable"
    return "ok"


def _migrations() -> str:
    global _migrated
    if _migrated:
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "unknown"
    if pending:
        return f"{len(pending)} pending"
    _migrated = True
    return "ok"


def _config() -> str:
    live = runtime.runtime()
    live.current()
    return f"not applied: {live.problem}" if live.problem else "ok"


@never_cache
@require_GET
def ready(request):
    checks = {"database": _database()}
    checks["migrations"] = _migrations() if checks["database"] == "ok" else "unknown"
    checks["config"] = _config()
    ok = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    verdict = replica.current_fitness()
    if verdict is not None:
        body["replica"] = "in use" if verdict.usable else f"not used: {verdict.reason}"
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})
