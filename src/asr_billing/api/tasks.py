"""Background work the API asks for (core/tasks.py runs it)."""

from __future__ import annotations

from datetime import date

from asr_billing.core.errors import RunInProgress
from asr_billing.core.tasks import task_handler

BILLING_RUN = "api.billing_run"


@task_handler(BILLING_RUN)
def run_billing(payload: dict) -> str:
    from asr_billing.billing.run import billing_run

    day = date.fromisoformat(payload["date"]) if payload.get("date") else None
    try:
        run = billing_run(date=day, actor=str(payload.get("actor") or "api")[:100])
    except RunInProgress as exc:
        # The working run charges everything due up to today: nothing is left for this one.
        return f"skipped: {exc.message}"
    return f"billing run {run.pk}: {run.status}, {run.charges_made} charges, {run.errors} errors"
