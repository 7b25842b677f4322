"""What the cabinet keeps: sessions, failed-login counters, password-reset codes and
online payments waiting for the bank.

Secrets a client holds (the session id, the reset code) are stored only as SHA-256
digests: a copy of the database does not let anyone into a cabinet.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from asr_billing.core.money import MoneyField


class SessionMethod(models.TextChoices):
    PASSWORD = "password", _("Login and password")
    AUTO_IP = "auto_ip", _("Automatically by IP address")
    DYNAMIC = "dynamic", _("Opened by an API client (REST v2)")


class CabinetSession(models.Model):
    """A subscriber's cabinet session. The client holds the id (``session_id`` / ``suid``);
    it is valid while not closed and used within the idle time
    (cabinet['session.idle_minutes'])."""

    key_hash = models.CharField(_("session id digest"), max_length=64, unique=True,
                                editable=False)
    login = models.ForeignKey(
        "network.Login", verbose_name=_("login"), on_delete=models.CASCADE,
        related_name="cabinet_sessions",
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", verbose_name=_("subscriber"), on_delete=models.CASCADE,
        related_name="cabinet_sessions",
    )
    method = models.CharField(_("opened by"), max_length=10, choices=SessionMethod.choices)
    src_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"))
    last_seen_at = models.DateTimeField(_("last used"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("cabinet session")
        verbose_name_plural = _("cabinet sessions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["login", "last_seen_at"], name="cabinet_session_login_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.login_id} {self.created_at:%Y-%m-%d %H:%M}"


class AuthThrottle(models.Model):
    """Failed attempts counted under one name (``scope``: what is counted, ``key``: whose
    — a login name, a login name from one address, an address, a reset uid), shared by
    every gunicorn worker and app node. Incremented under a row lock by
    ``cabinet.throttle.throttle_admit`` before the secret is compared (and taken back when
    it was right); while ``blocked_until`` is in the future the key's attempts are refused
    without being tried. See cabinet/throttle.py for the rules."""

    scope = models.CharField(_("scope"), max_length=20)
    key = models.CharField(_("key"), max_length=200)
    window_start = models.DateTimeField(_("first failure"))
    failures = models.PositiveIntegerField(_("failures"), default=0)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    blocked_until = models.DateTimeField(_("refused until"), null=True, blank=True)
    # The row means nothing after this (no refusal in force, the last failure forgotten):
    # the scheduler's housekeeping deletes it (cabinet.throttle.throttle_purge).
    expires_at = models.DateTimeField(_("forgotten after"), db_index=True)

    class Meta:
        verbose_name = _("failed login counter")
        verbose_name_plural = _("failed login counters")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="auth_throttle_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} {self.failures}"


class PasswordResetToken(models.Model):
    """A code e-mailed to the subscriber to set a new login password: single use,
    expiring (cabinet['reset.token_minutes'])."""

    login = models.ForeignKey(
        "network.Login", verbose_name=_("login"), on_delete=models.CASCADE,
        related_name="reset_tokens",
    )
    token_hash = models.CharField(_("code digest"), max_length=64, unique=True, editable=False)
    email = models.EmailField(_("sent to"))
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset code")
        verbose_name_plural = _("password reset codes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.login_id} {self.created_at:%Y-%m-%d %H:%M}"


class EmailChange(models.Model):
    """A subscriber's new e-mail address waiting for the code sent to it
    (cabinet.email_change): it becomes the subscriber's address only when the code comes
    back. ``finished_at``: confirmed, replaced by a newer request, or too many wrong codes."""

    login = models.ForeignKey(
        "network.Login", verbose_name=_("login"), on_delete=models.CASCADE, related_name="+",
    )
    new_email = models.EmailField(_("new e-mail"))
    code_hash = models.CharField(_("code digest"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    confirmed = models.BooleanField(_("confirmed"), default=False)

    class Meta:
        verbose_name = _("e-mail change")
        verbose_name_plural = _("e-mail changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["login", "-created_at"], name="email_change_login")]

    def __str__(self) -> str:
        return f"{self.login_id} → {self.new_email}"


class PendingStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the bank")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class PendingPayment(models.Model):
    """An online (card) payment started in the cabinet: its id is the order number the
    cabinet gives the bank (``operation_id_out``). Money is credited only when the bank
    confirms, exactly once: the ledger row is unique on (operator, "cabinet:<id>") and
    linked here one-to-one."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", verbose_name=_("subscriber"), on_delete=models.PROTECT,
        related_name="pending_payments",
    )
    login = models.ForeignKey(
        "network.Login", verbose_name=_("login"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    operator = models.ForeignKey(
        "finance.PaymentOperator", verbose_name=_("payment operator"),
        on_delete=models.PROTECT, related_name="+",
    )
    amount = MoneyField(_("amount"))
    src_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PendingStatus.choices,
                              default=PendingStatus.PENDING)
    created_at = models.DateTimeField(_("created"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    operation = models.OneToOneField(
        "finance.Operation", verbose_name=_("payment"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pending_payment_positive"),
            models.CheckConstraint(
                condition=Q(status="paid", operation__isnull=False)
                | (~Q(status="paid") & Q(operation__isnull=True)),
                name="pending_payment_paid_has_operation",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount} {self.status}"

    @property
    def external_id(self) -> str:
        """The payment's id in the ledger (unique per operator)."""
        return f"cabinet:{self.pk}"


# Helpdesk tickets and notifications live beside (models_helpdesk.py); imported here so
# Django registers them with the cabinet app.
from asr_billing.cabinet.models_helpdesk import (  # noqa: E402, F401
    Audience,
    MessageAuthor,
    Notification,
    NotificationRead,
    NotificationType,
    Ticket,
    TicketMessage,
    TicketStatus,
)
