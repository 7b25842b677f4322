"""radius['…'] keys of cfg/config: the FreeRADIUS rlm_rest endpoints (docs/radius.md).

Kept apart from config_schema.py (which merges them into SCHEMA) to keep that module short.
"""

from __future__ import annotations

import re

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.config_checks import (
    YES_NO,
    KeySpec,
    _int_range,
    _one_of,
    check_api_key,
    check_networks,
)

# What a subscriber who may not be online gets: refused, or let in to a "no money"
# profile (Framed-Pool / Mikrotik-Address-List) that the NAS redirects to a payment page.
POLICIES = ("reject", "redirect")


def check_attribute_text(value: str) -> None:
    """A pool, address-list or rate text sent to a NAS: printable ASCII, no quotes."""
    if value and (not re.fullmatch(r"[\x20-\x7e]{1,64}", value) or '"' in value):
        raise ValueError(_("empty, or up to 64 printable ASCII characters without quotes"))


RADIUS_SCHEMA: dict[tuple[str, str], KeySpec] = {
    ("radius", "api.allowed_ips"): KeySpec(
        "127.0.0.1 ::1", check_networks,
        "FreeRADIUS servers (IPs and CIDR networks) allowed to call /radius/.",
    ),
    ("radius", "api.token"): KeySpec(
        "", check_api_key,
        "Bearer token FreeRADIUS sends to /radius/ (the generated config carries it); "
        "empty: the endpoints refuse every request.",
    ),
    ("radius", "policy.negbal"): KeySpec(
        "redirect", _one_of(POLICIES),
        "A subscriber cut off for lack of money: reject, or redirect (accept into the no "
        "money profile).",
    ),
    ("radius", "policy.admin_blocked"): KeySpec(
        "reject", _one_of(POLICIES),
        "A subscriber blocked by the administrator: reject or redirect.",
    ),
    ("radius", "policy.voluntary_blocked"): KeySpec(
        "redirect", _one_of(POLICIES), "A subscriber on a voluntary block: reject or redirect."
    ),
    ("radius", "no_money.pool"): KeySpec(
        "negbal", check_attribute_text,
        "Framed-Pool of the no money profile (a pool the NAS redirects); empty: none.",
    ),
    ("radius", "no_money.address_list"): KeySpec(
        "negbal", check_attribute_text,
        "Mikrotik-Address-List of the no money profile (MikroTik NAS); empty: none.",
    ),
    ("radius", "no_money.rate_kbit"): KeySpec(
        "256", _int_range(0, 10_000_000),
        "Speed of the no money profile both ways, kbit/s; 0: no rate attribute.",
    ),
    ("radius", "no_money.session_timeout"): KeySpec(
        "300", _int_range(0, 86400),
        "Session-Timeout of the no money profile, seconds (the NAS re-asks after it); 0: none.",
    ),
    ("radius", "interim_interval"): KeySpec(
        "300", _int_range(60, 86400), "Acct-Interim-Interval sent on accept, seconds."
    ),
    ("radius", "session_timeout"): KeySpec(
        "0", _int_range(0, 31 * 86400), "Session-Timeout sent on a full accept, seconds; 0: none."
    ),
    ("radius", "session.stale_after"): KeySpec(
        "900", _int_range(120, 7 * 86400),
        "An open session without accounting for this many seconds is closed as Stale by the "
        "scheduler's housekeeping (keep it above interim_interval, e.g. 3 intervals).",
    ),
    ("radius", "auth_log.keep_days"): KeySpec(
        "30", _int_range(1, 3650),
        "Days the RADIUS refusal log keeps a row; the scheduler's housekeeping deletes older.",
    ),
    ("radius", "coa.enabled"): KeySpec(
        "yes", _one_of(YES_NO),
        "yes: on a subscriber's state or rate change send CoA / Disconnect to the NAS of each "
        "open session.",
    ),
    ("radius", "coa.timeout"): KeySpec(
        "3", _int_range(1, 60), "Seconds to wait for a NAS's CoA / Disconnect answer."
    ),
    ("radius", "coa.max_attempts"): KeySpec(
        "5", _int_range(1, 100), "Attempts of one CoA / Disconnect before it is given up."
    ),
}
