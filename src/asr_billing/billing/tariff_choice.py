"""The subscriber's own tariff change (the cabinet's Tariff page): which tariffs they may
choose, from which day, what the first charge on the new one is, and the two writes —
choose (schedules the change) and cancel. The scheduled change itself is the one every
face uses (subscribers.services.subscriber_tariff_schedule: Carbon's tarif_next /
tarif_next_date, applied by the billing run on that day).

The rule, set per tariff in the admin (Tariff.web_line, Tariff.web_change_in_debt):
a subscriber moves only between available tariffs of the same non-empty line; not while
the balance is below zero unless the current tariff allows it. The day it takes effect is
cabinet['tariff.change_from']: ``period`` — the start of the current tariff's next period
(the 1st of next month for a monthly fee, so a paid month is used up and nothing is
refunded; tomorrow for a daily or spread fee), or ``tomorrow`` — always tomorrow (the
unused days of a monthly fee are then refunded by the tariff change itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.billing.periods import Month, day_share, days_share
from asr_billing.core import runtime
from asr_billing.core.audit import Actor
from asr_billing.core.errors import InvalidInput
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import ChargeMethod, PartialMonth, Tariff

CHANGE_FROM = ("period", "tomorrow")


def change_day(current: Tariff | None, today: date) -> date:
    """The first day on the new tariff for a change chosen ``today``."""
    tomorrow = today + timedelta(days=1)
    if runtime.current().get("cabinet", "tariff.change_from") == "tomorrow":
        return tomorrow
    if current is not None and current.charge_method == ChargeMethod.MONTHLY:
        return Month.of(today).last + timedelta(days=1)
    return tomorrow


@dataclass(frozen=True)
class FirstCharge:
    """What the new tariff charges first: ``amount`` (roubles, ≥ 0) on the day ``on``;
    ``per`` says what the tariff's fee is for ("month", "day" or "once")."""

    amount: Decimal
    on: date
    per: str


def first_charge(tariff: Tariff, start: date) -> FirstCharge:
    """The billing rules' first charge of ``tariff`` for a subscriber on it from ``start``
    (billing.rules._tariff_due: a monthly fee on its charge day, for the rest of the month
    by days unless the tariff charges partial months in full)."""
    method = tariff.charge_method
    if method == ChargeMethod.DAILY:
        return FirstCharge(tariff.fee, start, "day")
    if method == ChargeMethod.MONTHLY_SPREAD:
        return FirstCharge(day_share(tariff.fee, start), start, "month")
    if method == ChargeMethod.ONCE:
        return FirstCharge(tariff.fee, start, "once")
    month = Month.of(start)
    on = max(month.day(tariff.monthly_charge_day), start)
    full = start == month.first or tariff.partial_month == PartialMonth.FULL
    amount = tariff.fee if full else days_share(tariff.fee, start, month.last)
    return FirstCharge(amount, on, "month")


def choices(subscriber: Subscriber) -> list[Tariff]:
    """The tariffs this subscriber may choose now (one query); empty when the current
    tariff has no line."""
    current = subscriber.tariff
    if current is None or not current.web_line:
        return []
    return list(
        Tariff.objects.filter(web_line=current.web_line, is_active=True)
        .exclude(pk=current.pk)
        .order_by("fee", "name")
    )


def refusal(subscriber: Subscriber, tariff: Tariff | None, *, balance: Decimal) -> str | None:
    """Why ``subscriber`` may not choose ``tariff`` (None: they may). ``tariff`` None asks
    only whether the current tariff can be left at all."""
    current = subscriber.tariff
    if current is None or not current.web_line:
        return _("Your tariff cannot be changed in the cabinet; please contact us.")
    if balance < 0 and not current.web_change_in_debt:
        return _("The tariff cannot be changed while the balance is below zero: "
                 "please pay the debt first.")
    if tariff is None:
        return None
    if tariff.pk == current.pk:
        return _("You are already on this tariff.")
    if not tariff.is_active or tariff.web_line != current.web_line:
        return _("This tariff is not among those you can change to.")
    return None


def cancellable(subscriber: Subscriber) -> bool:
    """A scheduled change the subscriber may cancel: one they could have chosen (a change
    the operator scheduled to a tariff outside the line is theirs to undo)."""
    scheduled = subscriber.tariff_next
    current = subscriber.tariff
    return (
        scheduled is not None
        and current is not None
        and bool(current.web_line)
        and scheduled.web_line == current.web_line
    )


def _locked(subscriber: Subscriber):
    from asr_billing.finance.services import account_lock

    account = account_lock(subscriber.pk)  # money first, as every posting locks
    locked = (
        Subscriber.objects.select_for_update(of=("self",))
        .select_related("tariff", "tariff_next")
        .get(pk=subscriber.pk)
    )
    return account, locked


@transaction.atomic
def tariff_choose(*, subscriber: Subscriber, tariff_id: int, today: date, actor: Actor):
    """Schedule the subscriber's change to tariff ``tariff_id`` from change_day(); a
    change already scheduled is replaced. Refusals raise InvalidInput and change nothing.
    Returns (the subscriber as it is now, the first day on the new tariff)."""
    from asr_billing.subscribers.services import subscriber_tariff_schedule

    account, locked = _locked(subscriber)
    tariff = Tariff.objects.filter(pk=tariff_id).first()
    if tariff is None:
        raise InvalidInput(_("This tariff is not among those you can change to."))
    reason = refusal(locked, tariff, balance=account.balance)
    if reason:
        raise InvalidInput(reason)
    on = change_day(locked.tariff, today)
    return subscriber_tariff_schedule(subscriber=locked, tariff=tariff, on=on, actor=actor), on


@transaction.atomic
def tariff_choice_cancel(*, subscriber: Subscriber, actor: Actor) -> Subscriber:
    """Cancel the subscriber's scheduled change, when it is one they may cancel."""
    from asr_billing.subscribers.services import subscriber_tariff_schedule

    _account, locked = _locked(subscriber)
    if locked.tariff_next_id is None:
        raise InvalidInput(_("No tariff change is scheduled."))
    if not cancellable(locked):
        raise InvalidInput(_("This change was arranged by your provider; please contact us "
                             "to cancel it."))
    return subscriber_tariff_schedule(subscriber=locked, tariff=None, on=None, actor=actor)
