"""What an API key may do. Reads need ``read``; each kind of write names its scope;
``admin`` may do everything (and is the only scope that reads the audit log)."""

from __future__ import annotations

READ = "read"
PAYMENTS = "payments"
SUBSCRIBERS_WRITE = "subscribers:write"
BILLING = "billing"
ADMIN = "admin"

SCOPE_CHOICES = (
    (READ, "read every resource"),
    (PAYMENTS, "register payments"),
    (SUBSCRIBERS_WRITE, "create and change groups, subscribers, logins and subscriptions"),
    (BILLING, "billing runs, promised payments, voluntary blocks, tariff changes, reversals"),
    (ADMIN, "everything, the audit log included"),
)
SCOPES = tuple(code for code, _label in SCOPE_CHOICES)


def check_scopes(values) -> list[str]:
    """The scopes, de-duplicated in the canonical order; ValueError names an unknown one."""
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    wanted = set()
    for value in values:
        if value not in SCOPES:
            raise ValueError(f"unknown scope {str(value)[:40]!r}; known: {', '.join(SCOPES)}")
        wanted.add(value)
    if not wanted:
        raise ValueError(f"at least one scope is needed: {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in wanted]


def allows(granted, needed: str) -> bool:
    return ADMIN in granted or needed in granted
