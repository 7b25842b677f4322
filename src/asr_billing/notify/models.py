"""What subscribers are told and how: message templates per event, channel and language,
and each subscriber's choices (issue 14, "Notifications to subscribers")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    PAYMENT_RECEIVED = "payment_received", _("payment received")
    RUNS_OUT = "runs_out", _("money runs out soon")
    CUT_OFF = "cut_off", _("cut off for lack of money")
    VBLOCK_ENDS = "vblock_ends", _("voluntary block ends")
    TARIFF_CHANGE = "tariff_change", _("tariff change tomorrow")
    HELPDESK_REPLY = "helpdesk_reply", _("reply in a helpdesk ticket")


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    FEED = "feed", _("cabinet feed")


class MessageTemplate(models.Model):
    """The text of one event on one channel in one language, in Django's template
    language (``{{ amount }}``, ``{{ balance }}``: the event's fields, listed on the admin
    page). Only enabled templates send anything: a new installation tells nobody anything
    until an operator has read and enabled the texts."""

    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2,
                                choices=[("ru", "Русский"), ("en", "English")])
    subject = models.CharField(_("subject"), max_length=200, blank=True,
                               help_text=_("E-mail only."))
    # SMS texts are short: a gateway splits longer ones and charges each part.
    body = models.TextField(_("text"))
    enabled = models.BooleanField(_("enabled"), default=False)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["event", "channel", "language"]
        constraints = [models.UniqueConstraint(fields=["event", "channel", "language"],
                                               name="notify_template_once")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} · {self.get_channel_display()} · {self.language}"


class Preference(models.Model):
    """A subscriber's choices: channels opted out of, and the language of the messages
    (empty: app['language']). No row: every channel, the default language."""

    subscriber = models.OneToOneField("subscribers.Subscriber", on_delete=models.CASCADE,
                                      primary_key=True, related_name="notify_preference",
                                      verbose_name=_("subscriber"))
    email_off = models.BooleanField(_("no e-mail"), default=False)
    sms_off = models.BooleanField(_("no SMS"), default=False)
    feed_off = models.BooleanField(_("no cabinet feed"), default=False)
    language = models.CharField(_("language"), max_length=2, blank=True,
                                choices=[("ru", "Русский"), ("en", "English")])

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.subscriber_id)


class CutOffNotice(models.Model):
    """A subscriber found cut off for lack of money (and told, when the template is
    enabled). Deleted when the cut-off ends, so the next one is told again."""

    subscriber = models.OneToOneField("subscribers.Subscriber", on_delete=models.CASCADE,
                                      primary_key=True, related_name="+",
                                      verbose_name=_("subscriber"))
    since = models.DateTimeField(_("found cut off at"))

    class Meta:
        verbose_name = _("cut-off notice")
        verbose_name_plural = _("cut-off notices")

    def __str__(self) -> str:
        return f"{self.subscriber_id} {self.since:%Y-%m-%d %H:%M}"


class Broadcast(models.Model):
    """A message an operator writes to one subscriber, a group (with its subgroups) or
    everyone, by the channels chosen. Sent once, through a background task that asks
    for each subscriber's delivery (a unique key each); never edited after."""

    subject = models.CharField(_("subject"), max_length=200, blank=True,
                               help_text=_("E-mail only."))
    text = models.TextField(_("text"), help_text=_(
        "May use {{ name }}, {{ contract }} and {{ balance }} of each subscriber."))
    email = models.BooleanField(_("by e-mail"), default=False)
    sms = models.BooleanField(_("by SMS"), default=False)
    feed = models.BooleanField(_("in the cabinet feed"), default=True)
    subscriber = models.ForeignKey("subscribers.Subscriber", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("subscriber"))
    group = models.ForeignKey("subscribers.Group", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("group"))
    everyone = models.BooleanField(_("everyone"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("author"), max_length=100, blank=True)
    asked = models.PositiveIntegerField(_("deliveries asked for"), default=0)
    sent_at = models.DateTimeField(_("handed to the tasks"), null=True, blank=True)

    class Meta:
        verbose_name = _("message to subscribers")
        verbose_name_plural = _("messages to subscribers")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:40]}"


class Seen(models.Model):
    """A row an event reader has read (a payment, a support reply: notify/events.py), so
    that every tick can read the whole window an event may still be told in without
    telling a row twice. Forgotten two days after the row was posted."""

    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    ref = models.BigIntegerField(_("row id"))
    posted = models.DateTimeField(_("posted"))

    class Meta:
        verbose_name = _("event read")
        verbose_name_plural = _("events read")
        constraints = [models.UniqueConstraint(fields=["event", "ref"], name="notify_seen_once")]
        indexes = [models.Index(fields=["event", "posted"], name="notify_seen_posted")]

    def __str__(self) -> str:
        return f"{self.event} {self.ref}"
