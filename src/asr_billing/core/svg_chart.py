"""Bar charts drawn on the server as inline SVG: no JavaScript, no CDN (issue 14).

``bar_chart`` draws stacked bars (one series per colour; ``stacked=False``: side by side)
with a y axis of round values, x labels (thinned when there are many bars), a legend and a
tooltip (<title>) on each bar.
Every text is escaped; the result is a well-formed XML fragment marked safe for templates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#417690", "#e3a21a", "#5b9e4d", "#ba2121", "#8e6bb5", "#3fa3a8", "#c4687a",
           "#7a7a7a")
LEFT, RIGHT, TOP, BOTTOM = 90, 16, 16, 56


def nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) so that ``ticks`` steps cover top."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | int]]],
    *,
    title: str,
    value_text: Callable[[Decimal | int], str] = str,
    width: int = 900,
    height: int = 300,
    stacked: bool = True,
    whole: bool = False,
) -> SafeString:
    """Stacked bars: ``labels[i]`` under bar i, ``series`` as (name, values per bar);
    with ``stacked=False`` the series' bars stand side by side in each slot; ``whole``: the
    values are counts, so the axis steps by whole numbers.
    Negative values count as zero (bars grow up)."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    bars = len(labels)
    combine = sum if stacked else (lambda values: max(values, default=0))
    stacks = [combine(max(Decimal(values[i]), Decimal(0)) for _name, values in series)
              for i in range(bars)]
    top = float(max(stacks, default=0))
    step = nice_step(top)
    if whole:
        step = max(step, 1.0)
    axis_top = step * max(1, math.ceil(top / step)) if top > 0 else step * 5
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="asr-chart" role="img" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>"]
    # The y axis: gridlines and values.
    tick = 0.0
    while tick <= axis_top + step / 2:
        y = TOP + plot_h - plot_h * tick / axis_top
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">'
                   f"{escape(value_text(Decimal(str(tick)).normalize()))}</text>")
        tick += step
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" '
               f'stroke="#444"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
               f'y2="{TOP + plot_h}" stroke="#444"/>')
    if bars:
        slot = plot_w / bars
        bar_w = max(slot * 0.7, 1.0)
        label_every = max(1, math.ceil(bars / max(1, plot_w // 60)))
        each_w = bar_w if stacked else bar_w / max(1, len(series))
        for i, label in enumerate(labels):
            x0 = LEFT + slot * i + (slot - bar_w) / 2
            base = float(TOP + plot_h)
            for n, (name, values) in enumerate(series):
                value = max(Decimal(values[i]), Decimal(0))
                if not value:
                    continue
                h = plot_h * float(value) / axis_top
                if stacked:
                    x = x0
                    base -= h
                else:
                    x, base = x0 + each_w * n, float(TOP + plot_h) - h
                tip = f"{label} — {name}: {value_text(values[i])}"
                out.append(f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" '
                           f'width="{each_w:.1f}" height="{h:.1f}" '
                           f'fill="{PALETTE[n % len(PALETTE)]}">'
                           f"<title>{escape(tip)}</title></rect>")
            if i % label_every == 0:
                cx = LEFT + slot * i + slot / 2
                out.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 14}" '
                           f'text-anchor="middle" fill="#444">{escape(label)}</text>')
    # The legend, one entry per series, under the x labels.
    x = LEFT
    for n, (name, _values) in enumerate(series):
        y = height - 16
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
                   f'fill="{PALETTE[n % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 14}" y="{y}" fill="#222">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped
