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


class JsonFormatter(logging.Formatter):
    """One JSON object per line (app['log.format']='json'), for log shippers: time (ISO 8601,
    UTC), level, logger, message, and the traceback when there is one. Redaction happens in
    RedactSecretsFilter before this runs, exactly as for plain lines."""

    def format(self, record: logging.LogRecord) -> str:
        import json
        from datetime import UTC, datetime

        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)
