"""What the cabinet keeps for talking to subscribers: helpdesk tickets with their messages,
and notifications (to one subscriber, a group with its subgroups, or everyone) with
per-subscriber read marks.

A notification to a group or to everyone is one row, whatever the number of subscribers;
a subscriber's read mark is a row of its own, written only when they read it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Waiting for support")  # new, or the subscriber wrote last
    ANSWERED = "answered", _("Answered")  # an operator wrote last
    # no more messages from the subscriber; "Closed" alone is a list filter's plural
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


class Ticket(models.Model):
    """A subscriber's request to support (Carbon's helpdesk "заявка"): a subject and the
    opening text, then messages. Written by cabinet.helpdesk's services only."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", verbose_name=_("subscriber"), on_delete=models.CASCADE,
        related_name="tickets",
    )
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices,
                              default=TicketStatus.OPEN)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("last activity"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("helpdesk ticket")
        verbose_name_plural = _("helpdesk tickets")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["subscriber", "-updated_at"], name="ticket_subscriber_recent"),
            models.Index(fields=["status", "-updated_at"], name="ticket_status_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="ticket_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class MessageAuthor(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Subscriber")
    OPERATOR = "operator", _("Operator")


class TicketMessage(models.Model):
    """A message in a ticket after its opening text. ``read_at``: when the other side read
    it — the subscriber an operator's message (in the cabinet), support a subscriber's
    (marked by the next answer)."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="messages")
    author = models.CharField(pgettext_lazy("message author", "from"), max_length=10,
                              choices=MessageAuthor.choices)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("written"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(author="operator") | Q(operator__isnull=True),
                name="ticket_message_operator_only_for_operators",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id}.{self.pk}"


class NotificationType(models.TextChoices):
    """The ``type`` a cabinet shows a notification with (the Go cabinet passes it on)."""

    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Important")


class Audience(models.TextChoices):
    SUBSCRIBER = "subscriber", _("One subscriber")
    GROUP = "group", _("A group and its subgroups")
    EVERYONE = "everyone", _("Everyone")


class Notification(models.Model):
    """A message shown in the cabinet from ``starts_at`` until ``ends_at`` (or for good),
    to each subscriber of its audience until they mark it read."""

    text = models.TextField(_("text"))
    type = models.CharField(_("type"), max_length=10, choices=NotificationType.choices,
                            default=NotificationType.INFO)
    audience = models.CharField(pgettext_lazy("addressee", "to"), max_length=10,
                                choices=Audience.choices)
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", verbose_name=_("subscriber"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="notifications",
    )
    group = models.ForeignKey(
        "subscribers.Group", verbose_name=_("group"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="notifications",
    )
    starts_at = models.DateTimeField(_("shown from"))
    ends_at = models.DateTimeField(_("shown until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.CharField(_("created by"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("cabinet notification")
        verbose_name_plural = _("cabinet notifications")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["audience", "-starts_at"], name="notification_audience")]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience="subscriber", subscriber__isnull=False, group__isnull=True)
                | Q(audience="group", group__isnull=False, subscriber__isnull=True)
                | Q(audience="everyone", subscriber__isnull=True, group__isnull=True),
                name="notification_audience_matches",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="notification_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:40]}"


class NotificationRead(models.Model):
    """One subscriber has read one notification (it is no longer shown to them)."""

    notification = models.ForeignKey(Notification, verbose_name=_("notification"),
                                     on_delete=models.CASCADE, related_name="reads")
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", verbose_name=_("subscriber"), on_delete=models.CASCADE,
        related_name="+",
    )
    read_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("notification read mark")
        verbose_name_plural = _("notification read marks")
        constraints = [
            models.UniqueConstraint(fields=["notification", "subscriber"],
                                    name="notification_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}:{self.subscriber_id}"
