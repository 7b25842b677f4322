"""The home page's balance chart: an inline SVG drawn on the server (no script, no
library, nothing from a CDN). The balance at the end of each day is a step line; the
area below zero is tinted; months are marked along the bottom. A ``<title>`` and a
``<desc>`` (lowest, highest, first and last balance in words) make it readable to a
screen reader, and the page shows the same figures as text."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from asr_billing.cabinet.selectors import BalanceDay

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 104, 8, 16, 34


def money_text(value: Decimal) -> str:
    """An amount in the active language's number format, always 2 places."""
    return number_format(value, 2, use_l10n=True, force_grouping=True)


@dataclass(frozen=True)
class ChartFacts:
    first: BalanceDay
    last: BalanceDay
    lowest: BalanceDay
    highest: BalanceDay
    operations: int

    def describe(self) -> str:
        day = lambda d: date_format(d.day, "SHORT_DATE_FORMAT")  # noqa: E731
        text = _(
            "From %(first_day)s to %(last_day)s the balance went from %(first)s to "
            "%(last)s; lowest %(low)s on %(low_day)s, highest %(high)s on %(high_day)s."
        ) % {
            "first_day": day(self.first), "last_day": day(self.last),
            "first": money_text(self.first.balance), "last": money_text(self.last.balance),
            "low": money_text(self.lowest.balance), "low_day": day(self.lowest),
            "high": money_text(self.highest.balance), "high_day": day(self.highest),
        }
        if not self.operations:
            text += " " + _("There were no payments or charges in this time.")
        return text


def chart_facts(days: list[BalanceDay], operations: int) -> ChartFacts:
    # The earliest day of the extreme wins: min/max keep the first of equals.
    return ChartFacts(
        first=days[0], last=days[-1],
        lowest=min(days, key=lambda d: d.balance),
        highest=max(days, key=lambda d: d.balance),
        operations=operations,
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def balance_svg(days: list[BalanceDay], facts: ChartFacts, *, title: str,
                element_id: str = "balance-chart") -> SafeString:
    """The chart as SVG markup (safe: every text in it is escaped here)."""
    low = min(Decimal(0), facts.lowest.balance)
    high = max(Decimal(0), facts.highest.balance)
    if high == low:
        high = low + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = float(high - low)
    count = len(days)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: Decimal) -> float:
        return TOP + plot_h * float(high - value) / span

    path = [f"M{_fmt(x(0))} {_fmt(y(days[0].balance))}"]
    for i in range(1, count):
        if days[i].balance != days[i - 1].balance:
            path.append(f"H{_fmt(x(i))} V{_fmt(y(days[i].balance))}")
    path.append(f"H{_fmt(x(count - 1))}")
    zero = y(Decimal(0))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{element_id}-title {element_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<desc id="{element_id}-desc">{escape(facts.describe())}</desc>',
    ]
    if low < 0:
        parts.append(f'<rect class="chart-debt" x="{LEFT}" y="{_fmt(zero)}" width="{plot_w}" '
                     f'height="{_fmt(TOP + plot_h - zero)}"/>')
    # Month starts: a faint line and the month's short name.
    for i, item in enumerate(days):
        if item.day.day == 1 or i == 0:
            parts.append(f'<line class="chart-grid" x1="{_fmt(x(i))}" y1="{TOP}" '
                         f'x2="{_fmt(x(i))}" y2="{TOP + plot_h}"/>')
            if count - i > 10 or i == 0:  # no label squeezed against the right edge
                parts.append(f'<text class="chart-label" x="{_fmt(x(i) + 3)}" '
                             f'y="{HEIGHT - 8}">{escape(date_format(item.day, "M"))}</text>')
    parts.append(f'<line class="chart-zero" x1="{LEFT}" y1="{_fmt(zero)}" '
                 f'x2="{WIDTH - RIGHT}" y2="{_fmt(zero)}"/>')
    for value in sorted({high, low, Decimal(0)}):
        if value in (high, low) and value != 0 and abs(y(value) - zero) < 24:
            continue  # too close to the zero label to be read
        parts.append(f'<text class="chart-axis" x="{LEFT - 6}" y="{_fmt(y(value) + 4)}" '
                     f'text-anchor="end">{escape(money_text(value))}</text>')
    parts.append(f'<path class="chart-line" d="{" ".join(path)}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built above from escaped parts
