"""Background work the API asks for (core/tasks.py runs it)."""

from __future__ import annotations

from datetime import date

from asr_billing.core.errors import RunInProgress
from asr_billing.core.tasks import TaskFailed, task_handler

BILLING_RUN = "api.billing_run"


@task_handler(BILLING_RUN)
def run_billing(payload: dict) -> str:
    from asr_billing.billing.options import billing_options
    from asr_billing.billing.periods import local_today
    from asr_billing.billing.run import billing_run

    day = date.fromisoformat(payload["date"]) if payload.get("date") else None
    try:
        run = billing_run(date=day, actor=str(payload.get("actor") or "api")[:100])
    except RunInProgress as exc:
        covered = exc.extra.get("date")
        wanted = day or local_today(billing_options().time_zone)
        if covered is not None and covered >= wanted:
            return f"skipped: {exc.message}"  # the working run charges this day too
        raise TaskFailed(exc.message) from None  # it stops short: the caller asks again
    return f"billing run {run.pk}: {run.status}, {run.charges_made} charges, {run.errors} errors"
