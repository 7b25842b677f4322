"""Quiet hours: channels listed in notify['quiet.channels'] wait from the start to the end
of notify['quiet_hours'] (local time in app['time_zone']; 22:00-09:00 spans midnight)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from asr_billing.core import runtime


def _clock(text: str) -> time:
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


def send_after(channel: str, now: datetime) -> datetime:
    """When a message on ``channel`` made at ``now`` may leave: ``now``, or the end of the
    quiet hours it falls in."""
    snap = runtime.current()
    hours = snap.get("notify", "quiet_hours") or ""
    if not hours or channel not in (snap.get("notify", "quiet.channels") or "").split():
        return now
    zone = ZoneInfo(snap.get("app", "time_zone"))
    local = now.astimezone(zone)
    start, end = (_clock(part) for part in hours.split("-"))
    today = local.time()
    inside = start <= today < end if start < end else (today >= start or today < end)
    if not inside:
        return now
    ends = datetime.combine(local.date(), end, zone)
    if ends <= local:  # 22:00-09:00 at 23:00: the end is tomorrow morning
        ends += timedelta(days=1)
    return ends
