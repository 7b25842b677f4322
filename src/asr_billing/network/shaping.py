"""A tariff's rates as RADIUS reply attributes, in the dialect of each NAS vendor.

Directions. A tariff's ``*_in`` rates are the subscriber's **download** (traffic into the
subscriber) and ``*_out`` the **upload**: the demo builds "Старт 20" (20 Mbit/s down,
10 up) as ``ceil_in = 20 * 1024``, ``ceil_out = 10 * 1024`` (demo/common.py), as Carbon's
collector lines, whose NAS scripts shape the subscriber's incoming traffic with ``*_in``.

Units. Every tariff rate is kbit/s (``None``: that value is not shaped). The tariff keeps
HTB's four numbers per direction: ``rate`` (guaranteed), ``ceil`` (the most it gets),
``burst`` (how far a burst may go above ``rate``) and ``cburst`` (above ``ceil``). A
vendor that polices one number gets the most the subscriber may use: ``ceil``, else
``rate``. A direction with neither is unshaped; a tariff with neither way shaped (or no
tariff) gets no attribute at all, so the NAS's own default applies.

Dialects (reference radius-and-payments.md §1.9):

- MikroTik ``Mikrotik-Rate-Limit``, the router's view: **rx = subscriber upload, tx =
  download**, so every pair is ``out/in``. ``rate/rate`` (the ceils), then, when the tariff
  has a cburst, the burst part ``burst-rate threshold time priority min-rate``: burst-rate
  = ceil + cburst (HTB's cburst is the room above ceil), threshold = rate + burst capped
  at ceil (the average under which a burst may start: HTB's burst is the room above
  rate), burst time 10 s, priority 8 (RouterOS's default), min-rate = rate (limit-at,
  the guaranteed rate). Without a burst but with a guaranteed rate below the ceil, the
  burst slots are ``0/0`` (no burst) so the min-rate can follow. ``M`` when a rate is a
  whole number of Mbit/s (×1000), else ``k``; 0 means unlimited for RouterOS.
- accel-ppp ``Filter-Id`` = ``down/up`` in plain kbit/s (its shaper's default attribute;
  the burst comes from its ``burst-factor`` setting, the attribute has no room for one).
  Never the ``M``/``G`` suffixes: accel-ppp maps ``G`` to ×10,000,000 (10× too much).
  An unshaped direction is ``0``, which accel-ppp's shaper leaves alone.
- Cisco ISG: ``Cisco-Account-Info`` = ``QU;<bps>;<normal burst>;<excess burst>;D;<bps>;
  <normal burst>;<excess burst>`` (ISG per-session policing, 26/9/250, upstream first).
  Chosen over ``Cisco-AVPair`` ``lcp:interface-config`` because ISG applies it to IPoE and
  PPP sessions alike, in an Access-Accept and in a CoA, and needs no interface template
  (lcp:interface-config only exists for PPP virtual-access interfaces). Policing is a
  ceiling, so the rate is ``ceil`` in bit/s; the normal burst is Cisco's advice of 1.5 s at
  that rate in bytes (rate × 1.5 / 8) and the excess burst twice that. An unshaped
  direction is left out (``QD;…`` alone shapes only the download).
- Juniper, Carbon XGE, other: no rate attribute. Juniper shapes by activating a service
  the router defines (``ERX-Service-Activate``), whose names are the router's config,
  not ours; XGE NASes take their rates from the collector lists; for an unknown vendor
  any attribute would be a guess. The operator shapes those on the NAS.
"""

from __future__ import annotations

from typing import Protocol

from asr_billing.network.models import NasType
from asr_billing.network.radius_config import radius_settings

# RouterOS's defaults for the parts of the burst a tariff does not say.
MIKROTIK_BURST_TIME = 10  # seconds
MIKROTIK_PRIORITY = 8
# Cisco's advice for a policer's normal burst: 1.5 seconds of traffic at the rate.
CISCO_BURST_SECONDS = 1.5


class Rates(Protocol):
    """A Tariff, or anything with its eight rates (kbit/s, None: not shaped)."""

    rate_in: int | None
    ceil_in: int | None
    burst_in: int | None
    cburst_in: int | None
    rate_out: int | None
    ceil_out: int | None
    burst_out: int | None
    cburst_out: int | None


def _top(rate: int | None, ceil: int | None) -> int | None:
    """The most one direction may use, kbit/s; None: unshaped."""
    top = ceil if ceil is not None else rate
    return top if top else None


def _mt(kbit: int) -> str:
    """kbit/s in RouterOS units: ``20M`` for 20000, ``20480k``, ``0``."""
    if kbit == 0:
        return "0"
    if kbit % 1000 == 0:
        return f"{kbit // 1000}M"
    return f"{kbit}k"


def _mikrotik_direction(rate, ceil, burst, cburst) -> tuple[int, int, int, int]:
    """(max, burst rate, threshold, min) of one direction, kbit/s; 0s when unshaped."""
    top = _top(rate, ceil)
    if top is None:
        return 0, 0, 0, 0
    minimum = rate if rate and rate < top else 0
    if not cburst:
        return top, 0, 0, minimum
    threshold = min((rate or top) + (burst or 0), top)
    return top, top + cburst, threshold, minimum


def mikrotik_rate_limit(t: Rates) -> str | None:
    """The ``Mikrotik-Rate-Limit`` text (``up/down`` pairs), or None when unshaped."""
    up = _mikrotik_direction(t.rate_out, t.ceil_out, t.burst_out, t.cburst_out)
    down = _mikrotik_direction(t.rate_in, t.ceil_in, t.burst_in, t.cburst_in)
    if not up[0] and not down[0]:
        return None

    def pair(i: int) -> str:
        return f"{_mt(up[i])}/{_mt(down[i])}"

    has_burst = up[1] or down[1]
    has_min = up[3] or down[3]
    if not has_burst and not has_min:
        return pair(0)
    time = f"{MIKROTIK_BURST_TIME}/{MIKROTIK_BURST_TIME}" if has_burst else "0/0"
    text = f"{pair(0)} {pair(1)} {pair(2)} {time} {MIKROTIK_PRIORITY}"
    if has_min:
        # A direction without a guaranteed rate gets its max as the min: what RouterOS
        # assumes when the min is not given.
        mins = (up[3] or up[0], down[3] or down[0])
        text += f" {_mt(mins[0])}/{_mt(mins[1])}"
    return text


def accel_filter_id(t: Rates) -> str | None:
    """accel-ppp's ``Filter-Id``: ``down/up`` kbit/s, or None when unshaped."""
    down = _top(t.rate_in, t.ceil_in)
    up = _top(t.rate_out, t.ceil_out)
    if down is None and up is None:
        return None
    return f"{down or 0}/{up or 0}"


def _cisco_direction(letter: str, kbit: int) -> str:
    bps = kbit * 1000
    normal = int(bps * CISCO_BURST_SECONDS / 8)
    return f"{letter};{bps};{normal};{normal * 2}"


def cisco_account_info(t: Rates) -> str | None:
    """ISG's ``Cisco-Account-Info`` policing text, or None when unshaped."""
    up = _top(t.rate_out, t.ceil_out)
    down = _top(t.rate_in, t.ceil_in)
    parts = []
    if up is not None:
        parts.append(_cisco_direction("U", up))
    if down is not None:
        parts.append(_cisco_direction("D", down))
    if not parts:
        return None
    return "Q" + ";".join(parts)


def rate_attributes(*, nas_type: str, tariff: Rates | None) -> dict[str, list[str]]:
    """Reply attributes that shape ``tariff`` on a NAS of ``nas_type``: attribute name ->
    values, e.g. ``{"Mikrotik-Rate-Limit": ["20M/100M"]}``; ``{}`` when not shaped."""
    if tariff is None:
        return {}
    if nas_type == NasType.MIKROTIK:
        text, name = mikrotik_rate_limit(tariff), "Mikrotik-Rate-Limit"
    elif nas_type == NasType.ACCEL_PPP:
        text, name = accel_filter_id(tariff), "Filter-Id"
    elif nas_type == NasType.CISCO:
        text, name = cisco_account_info(tariff), "Cisco-Account-Info"
    else:
        return {}
    return {name: [text]} if text else {}


class FlatRate:
    """The same speed both ways, as a tariff would give it (kbit/s)."""

    def __init__(self, kbit: int):
        self.rate_in = self.ceil_in = self.rate_out = self.ceil_out = kbit or None
        self.burst_in = self.cburst_in = self.burst_out = self.cburst_out = None


def no_money_attributes(*, nas_type: str) -> dict[str, list[str]]:
    """The "no money" profile from radius['no_money.*']: ``Framed-Pool`` (a pool the NAS
    redirects to the payment page), on MikroTik ``Mikrotik-Address-List`` (its firewall
    redirects that list), the vendor's rate for radius['no_money.rate_kbit'] and
    ``Session-Timeout`` (so the NAS asks again and a paid subscriber gets full service).
    Settings left empty or 0 give no attribute."""
    config = radius_settings()
    result: dict[str, list[str]] = {}
    if config.no_money_pool:
        result["Framed-Pool"] = [config.no_money_pool]
    if config.no_money_address_list and nas_type == NasType.MIKROTIK:
        result["Mikrotik-Address-List"] = [config.no_money_address_list]
    if config.no_money_rate_kbit:
        result.update(
            rate_attributes(nas_type=nas_type, tariff=FlatRate(config.no_money_rate_kbit))
        )
    if config.no_money_session_timeout:
        result["Session-Timeout"] = [str(config.no_money_session_timeout)]
    return result
