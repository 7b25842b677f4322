"""Cabinet notifications: operators publish a message to one subscriber, a group (with all
its subgroups) or everyone, and end it early; a subscriber marks one read.

A notification to a group or to everyone is one row however many subscribers it reaches;
reading it adds that subscriber's read mark (a row), nothing else. The feed itself is
cabinet.selectors_helpdesk.notification_feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet.models import Audience, Notification, NotificationRead, NotificationType
from asr_billing.core.audit import Actor, actor_fields, audit_record
from asr_billing.core.errors import InvalidInput, NotFound

TEXT_MAX = 1000  # characters


def notification_create(
    *,
    text,
    actor: Actor,
    kind: str = NotificationType.INFO,
    subscriber=None,
    group=None,
    everyone: bool = False,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    now: datetime | None = None,
) -> Notification:
    """Publish a notification to exactly one of: ``subscriber``, ``group`` (and every
    group below it), ``everyone``; ``kind`` is the ``type`` a cabinet shows it with.
    Shown from ``starts_at`` (default now) until ``ends_at`` (default: until each
    subscriber reads it). Audited."""
    now = now or timezone.now()
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput(_("The notification has no text"), code="notification_empty")
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            _("The notification is longer than %(max)d characters") % {"max": TEXT_MAX},
            code="notification_long",
        )
    if kind not in NotificationType.values:
        raise InvalidInput(_("Unknown notification type: %(type)s") % {"type": str(kind)[:20]},
                           code="notification_type")
    targets = [subscriber is not None, group is not None, bool(everyone)]
    if targets.count(True) != 1:
        raise InvalidInput(
            _("Send a notification to one subscriber, one group or everyone"),
            code="notification_audience",
        )
    starts_at = starts_at or now
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput(_("The notification ends before it starts"),
                           code="notification_period")
    audience = (Audience.SUBSCRIBER if subscriber is not None
                else Audience.GROUP if group is not None else Audience.EVERYONE)
    with transaction.atomic():
        notification = Notification.objects.create(
            text=text, type=kind, audience=audience, subscriber=subscriber, group=group,
            starts_at=starts_at, ends_at=ends_at, created_at=now,
            created_by=_actor_label(actor),
        )
        audit_record(actor=actor, action="notification_create", obj=notification,
                     subscriber=subscriber, message=text[:200], new={
                         "audience": str(audience),
                         "group": group.pk if group is not None else None,
                         "type": str(kind),
                         "starts_at": _utc(starts_at),
                         "ends_at": _utc(ends_at),
                     })
    return notification


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _actor_label(actor: Actor) -> str:
    return actor_fields(actor)["actor"]


def notification_end(*, notification_ids: Iterable[int], actor: Actor,
                     now: datetime | None = None) -> int:
    """An operator stops showing notifications now: those of ``notification_ids`` still
    shown (or not yet started) end at ``now``, each with an audit row. Returns how many."""
    now = now or timezone.now()
    ended = 0
    with transaction.atomic():
        rows = list(Notification.objects.select_for_update()
                    .filter(pk__in=list(notification_ids)).order_by("pk"))
        for row in rows:
            if row.ends_at is not None and row.ends_at <= now:
                continue
            old = {"starts_at": _utc(row.starts_at), "ends_at": _utc(row.ends_at)}
            # One not started yet moves into the past with it: it is never shown.
            starts_at = min(row.starts_at, now - timedelta(microseconds=1))
            Notification.objects.filter(pk=row.pk).update(starts_at=starts_at, ends_at=now)
            audit_record(actor=actor, action="notification_end", obj=row,
                         subscriber=row.subscriber if row.subscriber_id else None, old=old,
                         new={"starts_at": _utc(starts_at), "ends_at": _utc(now)})
            ended += 1
    return ended


def notification_mark_read(*, subscriber, notification_id: int,
                           now: datetime | None = None) -> Notification:
    """The subscriber has read the notification: it is no longer in their feed. Marking
    it again changes nothing. A notification not addressed to them (or none with that
    id) is NotFound."""
    from asr_billing.cabinet.selectors_helpdesk import notification_for

    notification = notification_for(subscriber, notification_id)
    if notification is None:
        raise NotFound(_("There is no notification %(id)s") % {"id": notification_id},
                       code="notification_not_found")
    NotificationRead.objects.bulk_create(
        [NotificationRead(notification=notification, subscriber=subscriber,
                          read_at=now or timezone.now())],
        ignore_conflicts=True,  # read twice (two tabs, a retry): the first mark stays
    )
    return notification
