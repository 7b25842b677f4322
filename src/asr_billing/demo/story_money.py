"""The story demo's money: each subscriber's charges, payments, corrections, reversals
and promised payments (a mixin of story.StoryBuilder; history makes the rows)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from asr_billing.demo import history
from asr_billing.demo.common import local_dt
from asr_billing.tariffs.models import ChargeMethod as M

if TYPE_CHECKING:
    from asr_billing.demo.story import Plan

OUTAGE_DAY = dt.date(2024, 8, 12)
PROMISED_AMOUNT = Decimal("300.00")  # billing['promised.amount'] by default


class StoryMoney:
    """Needs ``self.rng``, ``self.seed``, ``self.special``, ``self.today``, ``self.now`` and
    ``self.plans``."""

    def _events(self, plan: Plan) -> None:
        # A stream per subscriber: how many draws a history takes depends on today, and
        # a shared stream would let that change every later subscriber's history (the
        # March 2023 payments of 1361 that the docs show came and went with the day).
        today, rng = self.today, random.Random(self.seed * 100_000 + plan.id)
        events = history.charges(sub_id=plan.id, item=plan.tariff, is_service=False,
                                 start=plan.connected, end=today)
        monthly_cost = plan.tariff.fee * (30 if plan.tariff.charge_method == M.DAILY else 1)
        for service, enabled_on, disabled_on in plan.services:
            start = plan.connected + dt.timedelta(minutes=1)
            if enabled_on != plan.connected.date():
                start = local_dt(enabled_on, rng.randint(9, 19), rng.randint(0, 59))
            # disabled_on is the first day without the service (billing.rules.ServiceLink).
            last = disabled_on - dt.timedelta(days=1) if disabled_on else today
            events += [
                ev for ev in history.charges(sub_id=plan.id, item=service, is_service=True,
                                             start=start, end=last)
                # The engine charges no service on the days of a voluntary block.
                if not self._in_block(plan, ev)
            ]
            if service.charge_method != M.ONCE and disabled_on is None:
                monthly_cost += service.fee * (30 if service.charge_method == M.DAILY else 1)
        if (plan.district == "north" and plan.tariff.charge_method == M.MONTHLY
                and plan.connected.date() < OUTAGE_DAY):
            events.append(history.Event(
                plan.id, local_dt(dt.date(2024, 8, 20), 11, 30), history.T.CORRECTION,
                history.money(plan.tariff.fee * 2 / 31),
                "Перерасчёт: авария на магистрали 12–13.08.2024 (2 суток)", "admin:buh"))
        events.sort(key=lambda e: e.time)
        first_of_month = today.replace(day=1)
        if plan.synced:
            for ev in events:
                ev.to_1c = ev.time.date() < first_of_month
        events += history.payments(
            sub_id=plan.id, events=events, payer=plan.payer, monthly_cost=monthly_cost,
            connected=plan.connected, now=self.now, rng=rng, to_1c=plan.synced)
        plan.events = events

    @staticmethod
    def _in_block(plan: Plan, ev) -> bool:
        if ev.period_start != ev.period_end or ev.service is None:
            return False
        blocks = [b for b in (plan.vblock, plan.past_vblock) if b is not None]
        return any(first <= ev.period_start <= last for first, last in blocks)

    def _promises(self) -> None:
        """Subscribers who took today's promised payment (billing['promised.amount'],
        300.00 by default, only when cut off): their debt is below it, after part-paying
        it if it was larger."""
        rng = self.rng
        for plan in self.plans:
            if plan.target != "promised":
                continue
            balance = sum((ev.amount for ev in plan.events), Decimal("0.00"))
            if balance >= 0:
                plan.target = "paid"  # never ran out: nothing to promise
                continue
            left = Decimal(rng.randrange(50, 260, 10))
            if -balance > left:
                plan.events.append(history.payment_event(
                    plan.id, self.now - dt.timedelta(days=2, minutes=rng.randint(0, 600)),
                    history.money(-balance - left), plan.payer.channel
                    if plan.payer.channel != "QIWI" else "SBERBANK_OSMP"))
            plan.promised = PROMISED_AMOUNT

    def _mishaps(self) -> None:
        """Reversals the way they happen: cash put on the wrong contract and moved, a card
        payment refunded, a charge cancelled after an outage; one damage correction."""
        rng = self.rng
        by_id = {p.id: p for p in self.plans}
        start = local_dt(dt.date(2023, 6, 1))
        late = self.now - dt.timedelta(days=3)
        # Not the subscribers the docs' examples name: their 2023 payments stay as shown.
        persons = [p for p in self.plans if p.kind == "person" and p.id not in self.special]

        def payments_of(channel):
            return [(p, e) for p in persons if p.target == "paid" for e in p.events
                    if e.operator == channel and start < e.time < late]

        for plan, ev in rng.sample(payments_of("CASH"), 4):
            other = rng.choice([p for p in persons if p is not plan
                                and p.connected < ev.time])
            plan.events.remove(ev)
            wrong = history.Event(other.id, ev.time, ev.type, ev.amount, ev.description,
                                  ev.actor, operator="CASH")
            fix_time = ev.time + dt.timedelta(minutes=rng.randint(20, 90))
            other.events += [wrong, history.reversal(
                wrong, when=fix_time, actor="admin:kassa",
                description=f"Сторно: платёж ошибочно зачислен на договор {other.contract}, "
                            f"перенесён на {plan.contract}")]
            plan.events.append(history.Event(
                plan.id, fix_time + dt.timedelta(minutes=1), ev.type, ev.amount,
                f"Оплата в кассе (перенесена с договора {other.contract})", "admin:kassa",
                operator="CASH"))
        for plan, ev in rng.sample(payments_of("SBERBANK_ACQ"), 2):
            plan.events.append(history.reversal(
                ev, when=ev.time + dt.timedelta(days=rng.randint(1, 5), hours=2),
                actor="admin:buh", description="Возврат платежа на карту по заявлению абонента"))
        charged = [(p, e) for p in persons if p.district == "north" for e in p.events
                   if e.type == history.T.CHARGE and e.tariff is not None
                   and e.period_start == dt.date(2025, 3, 1)]
        for plan, ev in rng.sample(charged, min(2, len(charged))):
            plan.events.append(history.reversal(
                ev, when=local_dt(dt.date(2025, 3, 12), 15, rng.randint(0, 59)),
                actor="admin:buh",
                description="Сторно абонентской платы за март 2025: авария на узле, акт №14"))
        victim = by_id[rng.choice([p.id for p in persons if p.target == "paid"
                                   and p.connected.date() < dt.date(2025, 1, 1)])]
        victim.events.append(history.Event(
            victim.id, local_dt(dt.date(2025, 2, 7), 14, 20), history.T.CORRECTION,
            Decimal("-1500.00"), "Возмещение стоимости повреждённого роутера (акт №17 от "
            "07.02.2025)", "admin:buh"))
