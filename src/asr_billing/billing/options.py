"""Billing options in force: cfg/config's billing section, with per-tariff overrides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from asr_billing.core import runtime
from asr_billing.core.money import money
from asr_billing.tariffs.models import NegativePolicy

# Policy codes shared with the SQL of the set-based run.
POLICY_CODES = {
    NegativePolicy.ALWAYS: 0,
    NegativePolicy.NOT_NEGATIVE: 1,
    NegativePolicy.NOT_BELOW_FEE: 2,
}


@dataclass(frozen=True)
class BillingOptions:
    time_zone: str
    run_time: str
    expire_minutes: int
    catchup_days: int
    default_policy: str
    charge_admin_blocked: bool
    promised_amount: Decimal
    promised_days: int
    promised_max_per_month: int
    promised_only_when_cut_off: bool
    vblock_min_days: int
    vblock_max_days: int
    vblock_max_start_days: int
    vblock_max_per_month: int
    vblock_cost: Decimal

    def policy_of(self, tariff) -> str:
        """The charge-when-negative policy of a tariff (or of no tariff: the default)."""
        if tariff is None or tariff.negative_policy == NegativePolicy.DEFAULT:
            return self.default_policy
        return tariff.negative_policy


@dataclass(frozen=True)
class PromisedTerms:
    amount: Decimal
    days: int
    max_per_month: int
    only_when_cut_off: bool


def billing_options() -> BillingOptions:
    snap = runtime.current()

    def get(key: str) -> str:
        return snap.get("billing", key)

    return BillingOptions(
        time_zone=snap.time_zone,
        run_time=get("run.time"),
        expire_minutes=int(get("expire.minutes")),
        catchup_days=int(get("catchup.days")),
        default_policy=get("charge.when_negative"),
        charge_admin_blocked=get("charge.admin_blocked") == "yes",
        promised_amount=money(get("promised.amount")),
        promised_days=int(get("promised.days")),
        promised_max_per_month=int(get("promised.max_per_month")),
        promised_only_when_cut_off=get("promised.only_when_cut_off") == "yes",
        vblock_min_days=int(get("vblock.min_days")),
        vblock_max_days=int(get("vblock.max_days")),
        vblock_max_start_days=int(get("vblock.max_start_days")),
        vblock_max_per_month=int(get("vblock.max_per_month")),
        vblock_cost=money(get("vblock.cost")),
    )


def promised_terms(options: BillingOptions, tariff) -> PromisedTerms:
    """A tariff's promised payment terms: its own fields where set, else the config's."""

    def pick(field: str, default):
        value = getattr(tariff, field, None) if tariff is not None else None
        return default if value is None else value

    return PromisedTerms(
        amount=money(pick("promised_amount", options.promised_amount)),
        days=pick("promised_days", options.promised_days),
        max_per_month=pick("promised_max_per_month", options.promised_max_per_month),
        only_when_cut_off=pick("promised_only_when_cut_off", options.promised_only_when_cut_off),
    )
