"""``asr-billing scheduler``: the daily charging run, the frequent expiries and the
background tasks (core.tasks: CoA / Disconnect), as one long-running process (a systemd
service). docs/billing.md shows the cron and
systemd-timer alternative: `asr-billing bill run` once a day plus
`asr-billing manage billing_housekeeping` every few minutes.

Several schedulers (one per app node) may run at once: every step is exactly-once by
the database, so a second one only repeats no-ops; the daily run takes a lock, so the
second scheduler's run skips, says so in its log, and does no work twice.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import close_old_connections
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.options import billing_options
from asr_billing.core.errors import RunInProgress

logger = logging.getLogger("asr_billing.billing")


def run_due(now: datetime, run_time: str, tz_name: str, last_run_day: date | None) -> date | None:
    """The local date to charge now, or None: once a day, from ``run_time`` (HH:MM) on."""
    local = timezone.localtime(now, ZoneInfo(tz_name))
    hours, minutes = (int(part) for part in run_time.split(":"))
    if (local.hour, local.minute) < (hours, minutes) or last_run_day == local.date():
        return None
    return local.date()


class Scheduler:
    """``tick()`` does whatever is due at the moment; ``loop()`` ticks until stopped."""

    def __init__(
        self,
        *,
        run: Callable[..., object] | None = None,
        housekeeping: Callable[..., object] | None = None,
        tasks: Callable[..., object] | None = None,
        access: Callable[..., object] | None = None,
        notify: Callable[..., object] | None = None,
        clock: Callable[[], datetime] = timezone.now,
    ):
        from asr_billing.billing.run import billing_run
        from asr_billing.billing.services import billing_housekeeping

        self.run = run or billing_run
        self.housekeeping = housekeeping or billing_housekeeping
        if tasks is None:
            from asr_billing.core.tasks import tasks_run_due

            tasks = tasks_run_due
        if access is None:
            # Importing it also registers its task handlers.
            from asr_billing.network.coa import sessions_reconcile_access

            access = sessions_reconcile_access
        self.tasks = tasks  # background tasks (core.tasks): every tick
        self.access = access  # Disconnects for sessions whose access changed: every tick
        if notify is None:
            from asr_billing.notify.state_events import notify_tick

            notify = notify_tick
        self.notify = notify  # messages to subscribers about new events: every tick
        self.clock = clock
        self.next_housekeeping: datetime | None = None
        self.last_run_day: date | None = None
        self.stop = threading.Event()
        options = billing_options()
        today = timezone.localtime(clock(), ZoneInfo(options.time_zone)).date()
        if BillingRun.objects.filter(status=RunStatus.DONE, date=today).exists():
            self.last_run_day = today  # restarted after today's run: not again

    def tick(self) -> list[str]:
        done = []
        now = self.clock()
        options = billing_options()
        if self.next_housekeeping is None or now >= self.next_housekeeping:
            self._guarded("housekeeping", lambda: self.housekeeping(now=now))
            self.next_housekeeping = now + timedelta(minutes=options.expire_minutes)
            done.append(pgettext("scheduler step", "housekeeping"))
        self._guarded("access", lambda: self.access(now=now))
        self._guarded("notify", lambda: self.notify(now=now))
        # The clock again: the tasks the step above asked for are due from their writing.
        self._guarded("tasks", lambda: self.tasks(now=self.clock()))
        day = run_due(now, options.run_time, options.time_zone, self.last_run_day)
        if day is not None:
            self.last_run_day = day  # once a day even when it fails: tomorrow catches up
            skipped = self._guarded("run", lambda: self.run(date=day, actor="scheduler"))
            if skipped is not None:
                covered = skipped.extra.get("date")
                if covered is None or covered < day:
                    # The working run stops short of today (an operator's `bill run
                    # --date`), or could not be named: try again at the next tick.
                    self.last_run_day = None
                done.append(_("run %(date)s skipped: %(reason)s")
                            % {"date": day.isoformat(), "reason": skipped.message})
            else:
                done.append(_("run %(date)s") % {"date": day.isoformat()})
        return done

    def _guarded(self, what: str, work: Callable[[], object]) -> RunInProgress | None:
        """Run one step; a failure is logged and retried later. Returns the refusal when
        the step was skipped (another node's run holds the run lock), else None."""
        close_old_connections()
        try:
            work()
        except RunInProgress as exc:
            logger.info("scheduler: %s skipped: %s", what, exc.message)
            return exc
        except Exception:
            logger.exception("scheduler: %s failed; trying again later", what)
        return None

    def loop(self, *, poll_seconds: float = 20.0, echo: Callable[[str], None] | None = None):
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        while not self.stop.is_set():
            for item in self.tick():
                if echo is not None:
                    echo(f"{timezone.localtime(self.clock()):%Y-%m-%d %H:%M:%S} {item}")
            self.stop.wait(poll_seconds)
