"""gunicorn settings that `asr-billing serve` loads (``--config python:asr_billing.gunicorn_conf``).

gunicorn's own loggers print a refused request line whole ("Invalid request line ...
/system_api/?...&psw=..."), so they get the same redaction filter as our log files. Logs
go to stdout/stderr, where systemd or the terminal collects them. No Django imports here:
the master reads this before the application is loaded.
"""

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "asr_billing.core.logging.RedactSecretsFilter"}},
    "formatters": {
        "generic": {
            "format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
        },
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "filters": ["redact"],
            "stream": "ext://sys.stderr",
        },
        "access_console": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "filters": ["redact"],
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access_console"], "propagate": False},
    },
    "root": {"level": "WARNING", "handlers": ["error_console"]},
}


def child_exit(server, worker):
    """A worker that ended: its live gauges leave /metrics (prometheus-client multiprocess
    mode; its counters stay summed)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
