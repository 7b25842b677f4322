"""Log redaction: passwords, context passwords and card data never reach a log file."""

from __future__ import annotations

import logging
import re

# psw=..., passwd: "...", "password": "...", card numbers; in query strings, JSON and reprs.
SECRET_NAMES = r"(?:psw|passwd|password|user_password|psw1|psw2|card_key|secret|token|hash_key)"  # noqa: S105
# One quoted string as JSON or Python's repr() writes it.
_QUOTED = r"""(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")"""
# RADIUS attributes that carry a password or a challenge response, in rlm_rest's JSON
# (``"User-Password": {"type": "string", "value": ["…"]}``, our reply's
# ``"control:Cleartext-Password": {"value": "…", "do_xlat": false}``).
RADIUS_SECRET_NAMES = (
    r"(?:user-password|cleartext-password|chap-password|chap-challenge"  # noqa: S105
    r"|ms-chap2?-response|ms-chap-challenge|ms-chap2-success|ms-mppe-[\w-]+)"
)
_PATTERNS = [
    # key=value in query strings / form bodies
    (re.compile(rf"(?i)(\b{SECRET_NAMES}=)[^&\s]*"), r"\1***"),
    # "key": "value" or 'key': 'value' in JSON and Python reprs
    (re.compile(rf"""(?i)(["']{SECRET_NAMES}["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2"""), r"\1\2***\2"),
    # 'key': ['value', ...] in the repr of a QueryDict (request.GET / request.POST)
    (
        re.compile(rf"""(?i)(["']{SECRET_NAMES}["']\s*:\s*)\[\s*(?:{_QUOTED}\s*,?\s*)*\]"""),
        r"\1['***']",
    ),
    # "key": 123 (unquoted numbers)
    (re.compile(rf"""(?i)(["']{SECRET_NAMES}["']\s*:\s*)(\d+)"""), r"\1***"),
    # rlm_rest's {"Attr": {..., "value": [...] or "..."}} for the attributes above
    (
        re.compile(
            rf"""(?i)(["'](?:[a-z]+:)?{RADIUS_SECRET_NAMES}["']\s*:\s*\{{[^{{}}]*?"""
            rf"""["']value["']\s*:\s*)(?:\[(?:{_QUOTED}|[^\]'"])*\]|{_QUOTED})"""
        ),
        r'\1"***"',
    ),
    # Authorization: Bearer <token> (FreeRADIUS's calls to /radius/)
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;}]+"), r"\1***"),
    # 13-19 digit card numbers (PAN), possibly grouped by spaces or dashes
    (re.compile(r"\b(?:\d[ -]?){12,18}\d\b"), "[card]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's final message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            return True
        record.msg = redact(message)
        record.args = None
        # Filters run before the formatter renders the traceback into exc_text, so render
        # it here (the formatter reuses exc_text) and redact that: exception messages and
        # the source lines in a traceback carry request data too.
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_TRACEBACK_FORMATTER = logging.Formatter()
