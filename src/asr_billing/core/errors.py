"""Domain errors raised by services. Adapters map them to their wire formats.

``message`` is the user-facing text (already translated where it is ours, or a
byte-exact product string where a client compares it); ``code`` is a stable
machine-readable name.
"""

from __future__ import annotations


class ApplicationError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)


class NotFound(ApplicationError):
    code = "not_found"


class InvalidInput(ApplicationError):
    code = "invalid"


class Conflict(ApplicationError):
    code = "conflict"


class PaymentMismatch(Conflict):
    """A replay of a payment id with a different amount or subscriber."""

    code = "payment_mismatch"


class RunInProgress(Conflict):
    """Another charging run holds the run lock; this one did nothing."""

    code = "run_in_progress"
