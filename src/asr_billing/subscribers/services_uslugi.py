"""Services (uslugi) of a subscriber: connect and disconnect (admin, cabinet). The
billing run charges them from the link's dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.money import ZERO
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.service_common import local_today, lock_subscriber


def service_first_charge(service, day: date) -> Decimal:
    """What connecting ``service`` on ``day`` charges first: the fee (a monthly fee counted
    in full), or the day's share of a fee spread by day."""
    from asr_billing.billing.periods import day_share
    from asr_billing.tariffs.models import ChargeMethod

    if service.charge_method == ChargeMethod.MONTHLY_SPREAD:
        return day_share(service.fee, day)
    return service.fee


@transaction.atomic
def subscriber_service_connect(*, subscriber: Subscriber, service, actor: Actor,
                               cabinet: bool = False, on: date | None = None):
    """Connect ``service`` from the day ``on`` (default: today); the billing run charges
    it. From the cabinet (``cabinet=True``) the service must be shown and connectable
    there, the subscriber not blocked, and the money available (balance + credit +
    promised payment above the disconnect threshold) must cover the first charge.
    A service disconnected today (it runs until tonight) is reopened, not doubled."""
    from asr_billing.finance.selectors import money_available
    from asr_billing.finance.services import account_lock
    from asr_billing.subscribers.models import SubscriberService

    day = on or local_today()
    if not service.is_active:
        raise InvalidInput(_("Service %(name)s is not available") % {"name": service.name})
    if cabinet and not (service.is_show_web and service.web_allow_enable):
        raise InvalidInput(
            _("Service %(name)s cannot be connected from the cabinet") % {"name": service.name}
        )
    account = account_lock(subscriber.pk)
    locked = lock_subscriber(subscriber)
    if cabinet and locked.is_blocked:
        raise Conflict(_("Services cannot be connected while the subscriber is blocked"))
    links = SubscriberService.objects.select_for_update().filter(subscriber=locked,
                                                                 service=service)
    if links.filter(disabled_on__isnull=True).exists():
        raise Conflict(_("Service %(name)s is already connected") % {"name": service.name})
    running = links.filter(disabled_on__gt=day).order_by("-id").first()
    if cabinet and running is None:
        threshold = locked.tariff.disconnect_threshold if locked.tariff_id else ZERO
        available = money_available(balance=account.balance, credit_limit=account.credit_limit,
                                    promised=account.promised_amount, threshold=threshold)
        cost = service_first_charge(service, day)
        if cost > 0 and available < cost:
            raise InvalidInput(
                _("Not enough money to connect %(name)s: it costs %(cost)s, available "
                  "%(available)s") % {"name": service.name, "cost": cost,
                                      "available": max(available, ZERO)}
            )
    if running is not None:
        old = {"disabled_on": running.disabled_on.isoformat()}
        running.disabled_on = None
        running.save(update_fields=["disabled_on"])
        link = running
    else:
        old = None
        try:
            with transaction.atomic():
                link = SubscriberService.objects.create(
                    subscriber=locked, service=service, enabled_on=day
                )
        except IntegrityError:  # a concurrent connect won (one open link, by constraint)
            raise Conflict(
                _("Service %(name)s is already connected") % {"name": service.name}
            ) from None
    audit_record(
        actor=actor,
        action="service_connect",
        obj=link,
        subscriber=locked,
        old=old,
        new={"service": service.pk, "enabled_on": link.enabled_on.isoformat()},
    )
    return link


@transaction.atomic
def subscriber_service_disconnect(*, link, actor: Actor, cabinet: bool = False,
                                  on: date | None = None):
    """Disconnect a connected service: it runs to the end of the day ``on`` (default:
    today; that day is charged already) and stops from the next one. One that has not
    started yet is cancelled. From the cabinet the service must allow it."""
    from asr_billing.finance.services import account_lock
    from asr_billing.subscribers.models import SubscriberService

    day = on or local_today()
    account_lock(link.subscriber_id)
    locked_subscriber = lock_subscriber(link.subscriber)
    locked = SubscriberService.objects.select_for_update().select_related("service").get(
        pk=link.pk
    )
    service = locked.service
    if locked.disabled_on is not None:
        raise Conflict(_("Service %(name)s is not connected") % {"name": service.name})
    if cabinet and not service.web_allow_disable:
        raise InvalidInput(
            _("Service %(name)s cannot be disconnected from the cabinet") % {"name": service.name}
        )
    locked.disabled_on = max(locked.enabled_on, day + timedelta(days=1))
    locked.save(update_fields=["disabled_on"])
    audit_record(
        actor=actor,
        action="service_disconnect",
        obj=locked,
        subscriber=locked_subscriber,
        old={"disabled_on": None},
        new={"service": service.pk, "disabled_on": locked.disabled_on.isoformat()},
    )
    return locked
