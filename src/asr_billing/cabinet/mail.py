"""Sending cabinet e-mails through the backend cfg/config names (cabinet['email.*']):
``file`` (default: one file per message in HOME/var/mail/, nothing leaves the machine),
``console`` or ``smtp``. Read per message, so a running server follows config edits."""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from asr_billing.core import runtime

logger = logging.getLogger("asr_billing.cabinet")

BACKENDS = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}


def mail_dir():
    return settings.ASR_HOME.var_dir / "mail"


def _connection():
    snap = runtime.current()
    backend = snap.get("cabinet", "email.backend")
    options: dict = {"fail_silently": False}
    if backend == "file":
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        options["file_path"] = str(folder)
    elif backend == "smtp":
        url = urlsplit(snap.get("cabinet", "email.smtp_url"))
        options.update(
            host=url.hostname,
            port=url.port or {"smtps": 465, "smtp+starttls": 587}.get(url.scheme, 25),
            username=unquote(url.username or ""),
            password=unquote(url.password or ""),
            use_tls=url.scheme == "smtp+starttls",
            use_ssl=url.scheme == "smtps",
            timeout=30,
        )
    return get_connection(BACKENDS[backend], **options)


def deliver_mail(*, to: str, subject: str, body: str) -> None:
    """Send one plain-text message from cabinet['email.from']; a failure raises (the
    notifications' tasks retry it)."""
    sender = runtime.current().get("cabinet", "email.from")
    EmailMessage(subject, body, sender, [to], connection=_connection()).send()


def send_mail(*, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; a failure is logged (error.log), never raised: it runs
    after the request's transaction committed."""
    try:
        deliver_mail(to=to, subject=subject, body=body)
    except Exception:
        logger.exception("cabinet e-mail to %s could not be sent", to)
        return False
    return True
