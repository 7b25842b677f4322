"""Writing the story demo: one transaction of bulk inserts with explicit ids."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.core.models import AuditEntry, Counter
from asr_billing.core.money import ZERO
from asr_billing.demo import history, story
from asr_billing.demo.common import (
    ACTOR,
    DEMO_NAS,
    contract_pattern,
    ensure_nas,
    ensure_operators,
    ensure_services,
    ensure_tariffs,
    local_dt,
    reset_sequences,
    root_group,
)
from asr_billing.demo.helpdesk import create_helpdesk
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.state import is_negbal
from asr_billing.network.crypto import encrypt_secret
from asr_billing.network.models import Login, OnlineSession
from asr_billing.subscribers.models import AttributeValue, Group, Subscriber, SubscriberService
from asr_billing.subscribers.services import CONTRACT_COUNTER


class DemoConflict(Exception):
    """The home already holds rows where the story demo needs its fixed ids or names."""


@dataclass(frozen=True)
class StoryResult:
    created: bool
    subscribers: int = 0
    logins: int = 0
    operations: int = 0
    first_operation_id: int = 0
    last_operation_id: int = 0
    online: int = 0


def story_present() -> bool:
    """True when the story demo was loaded: subscriber 1361 with its demo contract."""
    prefix, digits = contract_pattern()
    number = story.KEY_SUBSCRIBER_ID - story.FIRST_SUBSCRIBER_ID + 1
    return Subscriber.objects.filter(
        pk=story.KEY_SUBSCRIBER_ID, contract_number=f"{prefix}{number:0{digits}d}"
    ).exists()


def _check_free(plans: list[story.Plan]) -> None:
    last_id = story.FIRST_SUBSCRIBER_ID + story.SUBSCRIBER_COUNT - 1
    logins = [entry for plan in plans for entry in plan.logins]
    problems = []
    if Group.objects.filter(pk__in=[g[0] for g in story.GROUPS]).exists():
        problems.append(gettext("group ids %(range)s") % {"range": "1220-1227"})
    if Subscriber.objects.filter(pk__range=(story.FIRST_SUBSCRIBER_ID, last_id)).exists():
        problems.append(gettext("subscriber ids %(range)s")
                        % {"range": f"{story.FIRST_SUBSCRIBER_ID}-{last_id}"})
    if Subscriber.objects.filter(contract_number__in=[p.contract for p in plans]).exists():
        problems.append(gettext("contract numbers %(range)s")
                        % {"range": f"{plans[0].contract}-{plans[-1].contract}"})
    if Login.objects.filter(pk__range=(logins[0].id, logins[-1].id)).exists():
        problems.append(gettext("login ids %(range)s")
                        % {"range": f"{logins[0].id}-{logins[-1].id}"})
    if Login.objects.filter(login__in=[e.login for e in logins]).exists():
        problems.append(gettext("login names (testlogin, ...)"))
    if Login.objects.filter(enabled=True, ip__in=[e.ip for e in logins if e.enabled]).exists():
        problems.append(gettext("IP addresses (10.20.30.41, ...)"))
    if problems:
        raise DemoConflict(
            gettext("cannot add the story demo: this database already uses its %(what)s. "
                    "Load it into a fresh home (asr-billing init --demo) before other data.")
            % {"what": ", ".join(problems)}
        )


def _first_operation_id(events: list[history.Event]) -> int:
    """Start near FIRST_OPERATION_ID so that KEY_OPERATION_ID lands on a plain payment
    (the api_1c_get_fin_detail example reads a payment)."""
    index = story.KEY_OPERATION_ID - story.FIRST_OPERATION_ID
    if len(events) <= index:
        raise AssertionError(f"only {len(events)} operations; {story.KEY_OPERATION_ID} needs more")
    while index >= 0:
        ev = events[index]
        if ev.type == OperationType.PAYMENT and not ev.reversed:
            return story.KEY_OPERATION_ID - index
        index -= 1
    raise AssertionError("no payment before the key operation")


def _operation(ev: history.Event, operators) -> Operation:
    return Operation(
        id=ev.id, account_id=ev.sub_id, type=ev.type, amount=ev.amount,
        balance_after=ev.balance_after, op_date=ev.time, description=ev.description,
        actor=ev.actor, pay_operator=operators[ev.operator] if ev.operator else None,
        external_id=ev.external_id, code1c=ev.code1c, synced_1c=ev.synced,
        reverses_id=ev.reverses.id if ev.reverses is not None else None,
        tariff=ev.tariff, service=ev.service, period_start=ev.period_start,
        period_end=ev.period_end,
    )


def _sessions(plans, nas_by_ip, now, rng) -> list[OnlineSession]:
    sessions, used = [], set()

    def session_id():
        while True:
            value = f"{rng.getrandbits(32):08x}"
            if value not in used:
                used.add(value)
                return value

    for plan in plans:
        for entry in plan.logins:
            if not entry.enabled:
                continue
            nas = nas_by_ip[entry.nas_ip]
            started = now - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 12))
            if plan.online:
                seconds = int((now - started).total_seconds())
                sessions.append(OnlineSession(
                    login_id=entry.id, nas=nas, acct_session_id=session_id(), ip=entry.ip,
                    started_at=started,
                    updated_at=max(started, now - dt.timedelta(seconds=rng.randint(0, 290))),
                    input_octets=seconds * rng.randint(20_000, 900_000),
                    output_octets=seconds * rng.randint(2_000, 120_000)))
            if rng.random() < 0.4:
                began = now - dt.timedelta(days=rng.randint(13, 40), minutes=rng.randint(0, 999))
                stopped = began + dt.timedelta(minutes=rng.randint(30, 12_000))
                sessions.append(OnlineSession(
                    login_id=entry.id, nas=nas, acct_session_id=session_id(), ip=entry.ip,
                    started_at=began, updated_at=stopped, stopped_at=stopped,
                    input_octets=rng.randint(10**7, 10**11),
                    output_octets=rng.randint(10**6, 10**10)))
    return sessions


def _states(plans, balances, today, now, rng):
    """Final balance, promised payment, negbal and online state of every subscriber."""
    promised = []
    for plan in plans:
        plan.balance = balances.get(plan.id, ZERO)
        if plan.promised:
            taken = now - dt.timedelta(hours=rng.randint(2, 40))
            promised.append(PromisedPayment(
                subscriber_id=plan.id, amount=plan.promised, created_at=taken,
                expires_at=taken + dt.timedelta(days=3), actor="cabinet"))
        plan.negbal = is_negbal(balance=plan.balance, credit_limit=plan.credit_limit,
                                promised=plan.promised,
                                threshold=plan.tariff.disconnect_threshold)
        blocked = plan.target == "blocked" or plan.vblock is not None
        chance = 0.0 if blocked else (0.3 if plan.negbal else 0.75)
        plan.online = plan.id == story.TEST_SUBSCRIBER_ID or plan.kind == "staff" or (
            rng.random() < chance)
    paid = [p for p in plans if p.kind == "person" and p.target == "paid"
            and p.connected.date() < dt.date(2025, 1, 1)]
    for plan in rng.sample(paid, 6):
        taken = local_dt(dt.date(2025, rng.randint(1, 10), rng.randint(1, 25)),
                         rng.randint(9, 22), rng.randint(0, 59))
        promised.append(PromisedPayment(
            subscriber_id=plan.id, amount=Decimal(rng.choice([300, 500])), created_at=taken,
            expires_at=taken + dt.timedelta(days=3), closed_at=taken + dt.timedelta(
                days=rng.randint(0, 2), hours=5), actor="cabinet"))
    return promised


def _subscriber(plan, today) -> Subscriber:
    next_first = history.next_month(today)
    return Subscriber(
        id=plan.id, group_id=plan.group_id, name=plan.name, contract_number=plan.contract,
        is_company=plan.kind == "company", email=plan.email, sms_phone=plan.sms,
        phone=plan.phone, address=plan.address, apartment=plan.apartment, code1c=plan.code1c,
        synced_1c=plan.synced, tariff=plan.tariff, tariff_next=plan.tariff_next,
        tariff_next_date=next_first if plan.tariff_next else None,
        admin_blocked=bool(plan.block_reason), admin_block_reason=plan.block_reason,
        voluntary_blocked=plan.vblock is not None, negbal=plan.negbal,
        connected_on=plan.connected.date(), comments=plan.comments)


@transaction.atomic
def create_story(*, seed: int = story.SEED) -> StoryResult:
    """Load the story demo unless it is there; raises DemoConflict if its ids are taken.
    Another ``seed`` gives other people and another history; the named examples (ids,
    testlogin, the states) are there whatever the seed."""
    if story_present():
        return StoryResult(created=False)
    now = timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(seed + 1)  # secrets, sessions: apart from the story's stream
    tariffs, services, operators = ensure_tariffs(), ensure_services(), ensure_operators()
    nas_by_ip = {
        ip: ensure_nas(name, ip, kind, text, f"radius-{rng.randint(100000, 999999)}")
        for name, ip, kind, text in DEMO_NAS
    }
    prefix, digits = contract_pattern()
    plans = story.StoryBuilder(today=today, now=now, tariffs=tariffs, services=services,
                               seed=seed).build(prefix=prefix, digits=digits)
    _check_free(plans)

    events = history.order([ev for plan in plans for ev in plan.events], now)
    history.IdPass(random.Random(seed + 2)).number(events)
    first_id = _first_operation_id(events)
    if Operation.objects.filter(pk__range=(first_id, first_id + len(events))).exists():
        raise DemoConflict(
            gettext("cannot add the story demo: this database already uses its %(what)s. "
                    "Load it into a fresh home (asr-billing init --demo) before other data.")
            % {"what": gettext("operation ids %(range)s")
               % {"range": f"{first_id}-{first_id + len(events)}"}})
    balances = history.IdPass.assign_ids(events, first_id=first_id)
    assert events[-1].id > story.KEY_OPERATION_ID
    promised = _states(plans, balances, today, now, rng)

    root = root_group()
    Group.objects.bulk_create([
        Group(id=gid, parent_id=parent or root.pk, name=name, comments=comment)
        for gid, parent, name, comment in story.GROUPS
    ])
    subscribers = Subscriber.objects.bulk_create([_subscriber(p, today) for p in plans])
    for subscriber, plan in zip(subscribers, plans, strict=True):
        subscriber.created_at = plan.connected
    Subscriber.objects.bulk_update(subscribers, ["created_at"], batch_size=500)
    Account.objects.bulk_create([
        Account(subscriber_id=p.id, balance=p.balance, credit_limit=p.credit_limit,
                promised_amount=p.promised) for p in plans
    ])
    AttributeValue.objects.bulk_create([
        AttributeValue(subscriber_id=p.id, attribute_id=aid, value=value)
        for p in plans for aid, value in sorted(p.attributes.items())
    ])
    SubscriberService.objects.bulk_create([
        SubscriberService(subscriber_id=p.id, service=service, enabled_on=on, disabled_on=off)
        for p in plans for service, on, off in p.services
    ])
    Login.objects.bulk_create([
        Login(id=e.id, subscriber_id=p.id, login=e.login, password_enc=encrypt_secret(e.password),
              enabled=e.enabled, ip=e.ip, mac=e.mac, snat_ip=e.snat_ip, nas=nas_by_ip[e.nas_ip])
        for p in plans for e in p.logins
    ])
    Operation.objects.bulk_create([_operation(ev, operators) for ev in events], batch_size=2000)
    Operation.objects.filter(pk__range=(first_id, events[-1].id)).update(created_at=F("op_date"))
    sessions = _sessions(plans, nas_by_ip, now, rng)
    OnlineSession.objects.bulk_create(sessions)
    PromisedPayment.objects.bulk_create(promised)
    blocks = [VoluntaryBlock(subscriber_id=p.id, start_date=p.vblock[0], end_date=p.vblock[1],
                             actor="cabinet") for p in plans if p.vblock]
    blocks += [VoluntaryBlock(subscriber_id=p.id, start_date=p.past_vblock[0],
                              end_date=p.past_vblock[1], actor="cabinet")
               for p in plans if p.past_vblock]
    VoluntaryBlock.objects.bulk_create(blocks)
    create_helpdesk(now=now)

    counter, _ = Counter.objects.get_or_create(name=CONTRACT_COUNTER)
    counter = Counter.objects.select_for_update().get(pk=counter.pk)
    if counter.value < story.SUBSCRIBER_COUNT:
        counter.value = story.SUBSCRIBER_COUNT
        counter.save(update_fields=["value"])
    reset_sequences([Group, Subscriber, Login, Operation, AttributeValue, SubscriberService,
                     OnlineSession, PromisedPayment, VoluntaryBlock])
    online = sum(1 for s in sessions if s.stopped_at is None)
    AuditEntry.objects.create(
        actor=ACTOR, action="demo_data", object_type="demo", object_id="story",
        message=f"story demo: {len(plans)} subscribers, {len(events)} operations "
                f"#{first_id}-#{events[-1].id}")
    return StoryResult(
        created=True, subscribers=len(plans), logins=sum(len(p.logins) for p in plans),
        operations=len(events), first_operation_id=first_id,
        last_operation_id=events[-1].id, online=online)
