"""Accounts, promised payments, voluntary blocks and the cut-off state of ``asr-billing
import carbon`` (issue 15), after the finance history (ledger.py).

``AdminAccounts`` a page at a time, the page's accounts locked by id: the credit limit;
the balance, made equal to the source's by ONE opening-balance correction per account
where the imported history does not sum to it (history trimmed at the source), dated a
second before the account's earliest imported operation; if a later run finds a
difference again (the source changed without a ledger row we could read), a balance
adjustment dated now; the promised payment and voluntary block in force (``states_page``
keeps them, for the subscribers that have one); then the cut-off state (negbal) from all
of it, refreshed through the billing's own service only where it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.billing.options import billing_options
from asr_billing.billing.periods import local_today
from asr_billing.carbon_import.money import ACTOR, OPENING_ACTOR, adjustment_text, opening_text
from asr_billing.carbon_import.report import Report
from asr_billing.core.audit import actor_fields, audit_record
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import ZERO
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.state import is_negbal
from asr_billing.subscribers.models import Subscriber

# --- accounts, promised payments, voluntary blocks, negbal ----------------------------


@dataclass
class State:
    """What a subscriber has in force at the source (only those that have something)."""

    promise_end: datetime | None = None
    block: tuple[date, date] | None = None


@dataclass
class Openings:
    """Balance corrections posted by this run: (account id, amount, opening or not)."""

    posted: list = field(default_factory=list)
    next_id: int | None = None  # a dry run numbers them itself (its sequence is not reset)


def _today() -> date:
    return local_today(billing_options().time_zone)


def states_page(*, rows: list[tuple[int, dict]], states: dict[int, State]) -> None:
    now = timezone.now()
    today = _today()
    for pk, f in rows:
        end = f.get("promise_end")
        promise = end if f.get("promise") and end is not None and end > now else None
        start, last = f.get("block_start"), f.get("block_end")
        block = (start, last) if start and last and last >= today and last >= start else None
        if promise or block:
            states[pk] = State(promise, block)


def _post_correction(account: Account, amount: Decimal, *, opening: bool, op_date: datetime,
                     balance_after: Decimal, openings: Openings) -> Operation:
    pk = None
    if openings.next_id is not None:
        pk, openings.next_id = openings.next_id, openings.next_id + 1
    op = Operation.objects.create(
        pk=pk, account=account, type=OperationType.CORRECTION, amount=amount,
        balance_after=balance_after, op_date=op_date, actor=OPENING_ACTOR,
        description=opening_text() if opening else adjustment_text())
    account.balance += amount
    Account.objects.filter(pk=account.pk).update(balance=account.balance,
                                                 updated_at=timezone.now())
    openings.posted.append((account.pk, amount, opening))
    audit_record(actor=ACTOR, action="carbon_import_opening" if opening else
                 "carbon_import_adjustment", obj=op, subscriber=account.subscriber,
                 new={"amount": str(amount), "balance": str(account.balance)},
                 message=op.description)
    return op


def accounts_page(*, rows: list[tuple[int, dict]], states: dict[int, State],
                  report: Report, openings: Openings) -> None:
    """Credit limits, balances, promised payments and blocks of a page of AdminAccounts;
    call inside the page's transaction."""
    ids = sorted(pk for pk, _f in rows)
    locked = {a.pk: a for a in Account.objects.select_for_update(of=("self",))
              .select_related("subscriber").filter(pk__in=ids).order_by("pk")}
    ours = set(Operation.objects.filter(account_id__in=ids, type=OperationType.CORRECTION,
                                        actor=OPENING_ACTOR)
               .values_list("account_id", flat=True))
    earliest = dict(Operation.objects.filter(account_id__in=ids).values("account_id")
                    .annotate(first=Min("op_date")).values_list("account_id", "first"))
    promised = {p.subscriber_id: p for p in PromisedPayment.objects.filter(
        subscriber_id__in=ids, closed_at__isnull=True)}
    blocks = {}
    for block in VoluntaryBlock.objects.filter(subscriber_id__in=ids, ended_at__isnull=True,
                                               end_date__gte=_today()):
        blocks.setdefault(block.subscriber_id, []).append(block)
    # The cut-off state as it is and the threshold it is measured against, read after the
    # lock by a statement of its own (as subscriber_state_refresh reads them); those that
    # change are set together at the end of the page (_negbal_set).
    current = {pk: (negbal, threshold if threshold is not None else ZERO)
               for pk, negbal, threshold in Subscriber.objects.filter(pk__in=ids)
               .values_list("pk", "negbal", "tariff__disconnect_threshold")}
    flips: dict[int, tuple[bool, Decimal]] = {}  # subscriber -> (negbal, balance)
    now = timezone.now()
    for pk, f in rows:
        account = locked.get(pk)
        if account is None:
            reason = (_("its subscriber %(id)s was skipped") if report.was_skipped(
                "subscribers", pk) else _("its subscriber %(id)s is not here")) % {"id": pk}
            report.skip("accounts", pk, reason)
            continue
        changed = False
        credit = f.get("credit_limit")
        if credit is not None and credit != account.credit_limit:
            audit_record(actor=ACTOR, action="carbon_import_update", obj=account,
                         subscriber=account.subscriber,
                         old={"credit_limit": str(account.credit_limit)},
                         new={"credit_limit": str(credit)})
            account.credit_limit = credit
            Account.objects.filter(pk=pk).update(credit_limit=credit, updated_at=now)
            changed = True
        difference = f["balance"] - account.balance
        if difference:
            opening = pk not in ours
            if opening and pk in earliest:
                op_date = earliest[pk] - timedelta(seconds=1)
                balance_after = difference  # the balance before the imported history
            else:
                op_date, balance_after = now, f["balance"]
            _post_correction(account, difference, opening=opening, op_date=op_date,
                             balance_after=balance_after, openings=openings)
            changed = True
        state = states.get(pk)
        if state is not None and state.promise_end is not None:
            changed |= _promise(account, state.promise_end, f.get("promised_amount"),
                                promised.get(pk), report, now)
        if state is not None and state.block is not None:
            changed |= _block(account.subscriber, state.block, blocks.get(pk, []), report)
        negbal, threshold = current[pk]
        if is_negbal(balance=account.balance, credit_limit=account.credit_limit,
                     promised=account.promised_amount, threshold=threshold) != negbal:
            flips[pk] = (not negbal, account.balance)
            changed = True
        report.count("accounts", "updated" if changed else "unchanged")
    _negbal_set(flips)


def cut_off_refresh(page: int = 1000) -> int:
    """Every subscriber's cut-off flag set from its balance as it is now, a page of
    locked accounts at a time; returns how many flags changed. For a run that moved
    balances through the finance history without the accounts step that sets the flags
    (``--only operations``): the NAS lists must not keep a paid subscriber cut off or a
    debtor online until someone imports ``accounts``."""
    from django.db import transaction

    changed, last = 0, 0
    while True:
        with transaction.atomic():
            accounts = list(Account.objects.select_for_update(of=("self",))
                            .filter(pk__gt=last).order_by("pk")[:page])
            if not accounts:
                return changed
            last = accounts[-1].pk
            current = {pk: (negbal, threshold if threshold is not None else ZERO)
                       for pk, negbal, threshold in Subscriber.objects
                       .filter(pk__in=[a.pk for a in accounts])
                       .values_list("pk", "negbal", "tariff__disconnect_threshold")}
            flips = {}
            for account in accounts:
                negbal, threshold = current[account.pk]
                if is_negbal(balance=account.balance, credit_limit=account.credit_limit,
                             promised=account.promised_amount, threshold=threshold) != negbal:
                    flips[account.pk] = (not negbal, account.balance)
            _negbal_set(flips)
            changed += len(flips)


def _negbal_set(flips: dict[int, tuple[bool, Decimal]]) -> None:
    """The cut-off flags that change, as subscriber_state_refresh sets each one (the flag
    and an audit entry negbal_on/negbal_off with the balance), in three statements for a
    page instead of four per subscriber."""
    for value in (True, False):
        pks = [pk for pk, (negbal, _balance) in flips.items() if negbal is value]
        if pks:
            Subscriber.objects.filter(pk__in=pks).update(negbal=value)
    who = actor_fields(ACTOR)
    AuditEntry.objects.bulk_create([
        AuditEntry(**who, action="negbal_on" if negbal else "negbal_off", subscriber_id=pk,
                   object_type="subscriber", object_id=str(pk), old={"negbal": not negbal},
                   new={"negbal": negbal, "balance": str(balance)})
        for pk, (negbal, balance) in flips.items()])


def _promise(account: Account, end: datetime, amount, here, report: Report,
             now: datetime) -> bool:
    if here is not None:  # one in force here already: left as it is
        report.count("promised", "unchanged")
        return False
    if not amount or amount <= 0:
        report.skip("promised", account.pk, _(
            "the source does not give the promised payment's amount (AdminAccounts "
            "promised_amount)"))
        return False
    promise = PromisedPayment.objects.create(
        subscriber_id=account.pk, amount=amount, created_at=now, expires_at=end, actor=ACTOR)
    account.promised_amount += amount
    Account.objects.filter(pk=account.pk).update(promised_amount=account.promised_amount)
    audit_record(actor=ACTOR, action="carbon_import_create", obj=promise,
                 subscriber=account.subscriber,
                 new={"amount": str(amount), "expires_at": end.isoformat()})
    report.count("promised", "created")
    return True


def _block(subscriber: Subscriber, days: tuple[date, date], here: list, report: Report) -> bool:
    start, end = days
    if any(b.start_date == start and b.end_date == end for b in here):
        report.count("blocks", "unchanged")
        return False
    if here:
        other = here[0]
        report.skip("blocks", subscriber.pk, _(
            "the source's block %(start)s…%(end)s: subscriber %(id)s has the block "
            "%(here_start)s…%(here_end)s here") % {
            "start": start, "end": end, "id": subscriber.pk, "here_start": other.start_date,
            "here_end": other.end_date})
        return False
    block = VoluntaryBlock.objects.create(subscriber=subscriber, start_date=start,
                                          end_date=end, actor=ACTOR)
    audit_record(actor=ACTOR, action="carbon_import_create", obj=block, subscriber=subscriber,
                 new={"start_date": start.isoformat(), "end_date": end.isoformat()})
    if start <= _today() and not subscriber.voluntary_blocked:
        Subscriber.objects.filter(pk=subscriber.pk).update(voluntary_blocked=True)
        subscriber.voluntary_blocked = True
        audit_record(actor=ACTOR, action="voluntary_block_on", obj=block,
                     subscriber=subscriber, old={"voluntary_blocked": False},
                     new={"voluntary_blocked": True})
    report.count("blocks", "created")
    return True


def dry_run_next_id() -> int:
    return (Operation.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
