"""Cross-cutting records: the audit log and named counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One change of money, tariff, block state or credentials, written in the same
    transaction as the change itself (a log file is not an audit)."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Who acted when it was not a staff user: "system_api:asr_fiscal", "cli", "billing".
    actor = models.CharField(_("actor"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=50, db_index=True)
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object id"), max_length=50, blank=True)
    old = models.JSONField(_("before"), null=True, blank=True)
    new = models.JSONField(_("after"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Counter(models.Model):
    """A named monotonic counter, incremented under a row lock (contract numbers)."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class TaskState(models.TextChoices):
    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Task(models.Model):
    """A side effect that leaves the process (a CoA to a NAS, later e-mail and SMS), run by
    the scheduler's worker after the transaction that asked for it commits (core.tasks).

    ``key`` is unique: one task per event, however many times the event is reported."""

    name = models.CharField(_("task"), max_length=64)
    key = models.CharField(_("key"), max_length=200, unique=True)
    payload = models.JSONField(_("payload"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=TaskState.choices,
                             default=TaskState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("attempts allowed"), default=5)
    run_after = models.DateTimeField(_("run after"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("background task")
        verbose_name_plural = _("background tasks")
        ordering = ["-id"]
        indexes = [
            # The worker's question: which pending tasks are due. Done and failed rows are
            # the history and stay out of this index.
            models.Index(fields=["run_after"], condition=models.Q(state="pending"),
                         name="task_due"),
            models.Index(fields=["claimed_at"], condition=models.Q(state="running"),
                         name="task_running"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.key}"
