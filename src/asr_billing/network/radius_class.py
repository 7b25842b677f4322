"""The RADIUS Class our authorize reply carries and the NAS echoes in accounting.

``asr1:<login id>:<unix time of the decision>[:n]``: accounting finds the login without a
lookup by name (a renamed login keeps its sessions), and an operator can tell which
authorization a session came from. ``:n`` marks a session let in to the no money profile:
the session remembers which access it was given, and when the subscriber's state no longer
matches it the NAS is asked to end it (network.coa.sessions_reconcile_access). Anything
else in Class (another server's, a NAS's own) is not ours: accounting then finds the login
by User-Name.
"""

from __future__ import annotations

import re

PREFIX = "asr1"
_CLASS_RE = re.compile(r"asr1:(\d{1,18}):(\d{1,12})(:n)?")
FULL, NO_MONEY = "f", "n"  # OnlineSession.access


def class_token(*, login_id: int, decided_at: int, no_money: bool = False) -> str:
    """The Class text for a login authorized at ``decided_at`` (Unix seconds)."""
    return f"{PREFIX}:{login_id}:{decided_at}" + (":n" if no_money else "")


def class_access(value: str | None) -> str:
    """FULL or NO_MONEY for a Class we gave (as text), "" for any other."""
    match = _CLASS_RE.fullmatch(value or "")
    if match is None:
        return ""
    return NO_MONEY if match[3] else FULL


def class_login_id(value: str | bytes | None) -> int | None:
    """The login id in a Class we gave, else None. rlm_rest sends octets as "0x…" hex."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("0x"):
        try:
            value = bytes.fromhex(value[2:])
        except ValueError:
            return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    match = _CLASS_RE.fullmatch(value)
    return int(match[1]) if match else None
