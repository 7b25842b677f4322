"""``asr-billing radius serve``: FreeRADIUS's calls on their own port, through granian.

Why a second server beside ``asr-billing serve``: on a network of thousands of
subscribers FreeRADIUS calls once per Access-Request and per Accounting-Request, and under
gunicorn about three quarters of each call's CPU went to the request cycle and gunicorn's
own Python (docs/performance.md, RADIUS). Here granian — an HTTP server written in Rust —
runs radius/wsgi.py, which serves only the three rlm_rest endpoints. It also keeps a rush
of cabinet or admin requests from delaying the subscribers' logins, and the other way
round.

As ``serve`` does with gunicorn's --preload, this process sets Django up and imports the
application before granian forks its workers: a worker granian replaces later (after a
crash) starts from the config read here, not from a cfg/config that may have broken
since. Counters for /metrics go to HOME/var/metrics-radius/<address>, emptied at each
start; the main server's /metrics adds them to its own with the label server="radius".
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import sys

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.cli_text import ngettext

DEFAULT_RADIUS_BIND = "127.0.0.1:8083"
METRICS_FOLDER = "metrics-radius"

# granian logs to stderr through Python's logging: the same redaction filter as gunicorn's
# logs (it never logs a request line, but a worker's traceback may carry a body).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "asr_billing.core.logging.RedactSecretsFilter"}},
    "formatters": {"generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] "
                                         "%(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "generic",
                             "filters": ["redact"], "stream": "ext://sys.stderr"}},
    "loggers": {"_granian": {"level": "INFO", "handlers": ["console"], "propagate": False},
                "granian.access": {"level": "WARNING", "handlers": ["console"],
                                   "propagate": False}},
}


def _require_migrated() -> None:
    """Refuse to start on a database ``serve`` has not migrated yet (after an upgrade the
    two start together; this one must not answer from an old schema). systemd's
    Restart=on-failure tries again until ``serve`` has applied the migrations."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from asr_billing.home import HomeError

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    connection.close()
    if pending:
        raise HomeError(ngettext(
            "the database has %(count)d migration to apply: start asr-billing serve first "
            "(it applies it)",
            "the database has %(count)d migrations to apply: start asr-billing serve first "
            "(it applies them)", len(pending)) % {"count": len(pending)})


def serve(args, home) -> int:
    """Run granian until it is stopped (SIGINT / SIGTERM). ``args``: bind, workers,
    threads (granian's blocking threads per worker)."""
    from asr_billing.cli import _check_bind, _require_home, _start_django

    _require_home(home)
    _check_bind(args.bind)
    # One folder per address: a second radius serve on the same home (another port) does
    # not empty the first one's counters.
    metrics_dir = home.var_dir / METRICS_FOLDER / re.sub(r"[^0-9A-Za-z.]+", "_", args.bind)
    # Before Django starts: prometheus-client picks its multiprocess mode at import.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    _start_django(home)  # a broken cfg/config stops here, before anything is changed
    _require_migrated()
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    import asr_billing.radius.wsgi  # noqa: F401 - loaded once here; the workers fork from it

    # The workers are forked from this process, with the application and the config read
    # above (Python 3.14 defaults to forkserver, with which granian would spawn workers
    # that read cfg/config again: a file broken since would stop every respawn).
    multiprocessing.set_start_method("fork", force=True)
    # Emptied once the config is known good; the workers write their files from here on.
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)

    host, _sep, port = args.bind.rpartition(":")
    print(_("asr-billing RADIUS endpoints on %(url)s (FreeRADIUS's rest module: "
            "asr-billing radius config --url %(url)s)") % {"url": f"http://{args.bind}"})
    sys.stdout.flush()
    Granian(
        "asr_billing.radius.wsgi:application",
        address=host.strip("[]"),
        port=int(port),
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,  # rlm_rest speaks HTTP/1.1 with keep-alive
        websockets=False,
        workers=args.workers,
        blocking_threads=args.threads,
        log_dictconfig=LOGGING,
        respawn_failed_workers=True,
    ).serve()
    return 0
