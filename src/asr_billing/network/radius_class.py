"""The RADIUS Class our authorize reply carries and the NAS echoes in accounting.

``asr1:<login id>:<unix time of the decision>``: accounting finds the login without a
lookup by name (a renamed login keeps its sessions), and an operator can tell which
authorization a session came from. Anything else in Class (another server's, a NAS's own)
is not ours: accounting then finds the login by User-Name.
"""

from __future__ import annotations

import re

PREFIX = "asr1"
_CLASS_RE = re.compile(r"asr1:(\d{1,18}):(\d{1,12})")


def class_token(*, login_id: int, decided_at: int) -> str:
    """The Class text for a login authorized at ``decided_at`` (Unix seconds)."""
    return f"{PREFIX}:{login_id}:{decided_at}"


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
