"""radius['…'] settings of cfg/config, typed and parsed once per version of the file.

The authorize path runs a thousand times a second: reading the file's values through
the config object rebuilds its dict on every call, so the values are parsed once per
version (the runtime keeps one ConfigFile object per version, so identity says "same
version") and each request pays one ``os.stat`` (runtime.current()) and an ``is``.
"""

from __future__ import annotations

from dataclasses import dataclass

from asr_billing.core import runtime
from asr_billing.core.config_checks import parse_networks


@dataclass(frozen=True)
class RadiusSettings:
    allowed_networks: tuple
    token: str
    policy_negbal: str  # "reject" | "redirect"
    policy_admin_blocked: str
    policy_voluntary_blocked: str
    no_money_pool: str
    no_money_address_list: str
    no_money_rate_kbit: int  # 0: no rate attribute
    no_money_session_timeout: int  # seconds, 0: none
    interim_interval: int  # seconds
    session_timeout: int  # seconds, 0: none
    stale_after: int  # seconds without accounting before an open session is closed
    auth_log_keep_days: int
    coa_enabled: bool
    coa_timeout: int  # seconds to wait for a NAS's answer
    coa_max_attempts: int


def _parse(config) -> RadiusSettings:
    def get(key: str) -> str:
        return config.get("radius", key) or ""

    return RadiusSettings(
        allowed_networks=tuple(parse_networks(get("api.allowed_ips"))),
        token=get("api.token"),
        policy_negbal=get("policy.negbal"),
        policy_admin_blocked=get("policy.admin_blocked"),
        policy_voluntary_blocked=get("policy.voluntary_blocked"),
        no_money_pool=get("no_money.pool"),
        no_money_address_list=get("no_money.address_list"),
        no_money_rate_kbit=int(get("no_money.rate_kbit") or 0),
        no_money_session_timeout=int(get("no_money.session_timeout") or 0),
        interim_interval=int(get("interim_interval") or 0),
        session_timeout=int(get("session_timeout") or 0),
        stale_after=int(get("session.stale_after") or 900),
        auth_log_keep_days=int(get("auth_log.keep_days") or 30),
        coa_enabled=get("coa.enabled") != "no",
        coa_timeout=int(get("coa.timeout") or 3),
        coa_max_attempts=int(get("coa.max_attempts") or 5),
    )


_parsed: tuple[object, RadiusSettings | None] = (None, None)


def radius_settings(snapshot: runtime.Snapshot | None = None) -> RadiusSettings:
    """The radius settings of the config in force (or of ``snapshot``)."""
    global _parsed
    snapshot = snapshot or runtime.current()
    source, found = _parsed
    if source is not snapshot.config or found is None:
        found = _parse(snapshot.config)
        _parsed = (snapshot.config, found)  # one assignment: safe across threads
    return found
