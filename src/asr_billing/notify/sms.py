"""SMS through an HTTP gateway (notify['sms.provider']): SMS.ru, SMSC.ru, or any gateway
that takes a phone number and a text by HTTP (``http``). The gateway is outside our
machine; ``send_sms`` raises SmsError with the gateway's own reason, so the task is
retried (a gateway down, no money on the account) and the reason is in the admin.

- ``smsru``: ``POST {url}/sms/send`` with api_id, to, msg, from, json=1 (url default
  https://sms.ru); the answer's ``status`` and the number's own ``status`` must be OK.
- ``smsc``: ``POST {url}/sys/send.php`` with login, psw, phones, mes, sender,
  charset=utf-8, fmt=3 (url default https://smsc.ru); an ``error`` in the answer fails.
- ``http``: ``POST {url}`` with a JSON body {"phone", "text", "sender"} and, when
  notify['sms.password'] is set, ``Authorization: Bearer <it>``; any 2xx is sent.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlencode

from asr_billing.core import runtime

TIMEOUT = 20  # seconds for the gateway to answer
DEFAULT_URLS = {"smsru": "https://sms.ru", "smsc": "https://smsc.ru"}


class SmsError(Exception):
    """The gateway refused or could not be reached; the text says why."""


def phone_number(text: str) -> str:
    """A Russian mobile number as gateways want it: 11 digits from 7 (8 9XX… and
    +7 (9XX) … become 79XX…); "" when it is not one."""
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 10 and digits.startswith("9"):
        digits = "7" + digits
    if len(digits) == 11 and digits[0] in "78" and digits[1] == "9":
        return "7" + digits[1:]
    return ""  # a landline (8 495 …) or not a Russian number: no SMS


def _post(url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - the operator's gateway URL, http(s) checked by the config
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            return answer.status, answer.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536)
    except OSError as exc:
        raise SmsError(f"the gateway cannot be reached: {getattr(exc, 'reason', exc)}") from None


def _json(data: bytes) -> dict:
    try:
        answer = json.loads(data)
    except ValueError:
        raise SmsError(f"the gateway did not answer JSON: {data[:100]!r}") from None
    if not isinstance(answer, dict):
        raise SmsError(f"unexpected answer: {data[:100]!r}")
    return answer


def send_sms(*, phone: str, text: str) -> str:
    """Send one SMS; returns the gateway's id of the message (or "sent")."""
    snap = runtime.current()
    provider = snap.get("notify", "sms.provider")
    url = (snap.get("notify", "sms.url") or DEFAULT_URLS.get(provider, "")).rstrip("/")
    login, password = snap.get("notify", "sms.login"), snap.get("notify", "sms.password")
    sender = snap.get("notify", "sms.sender")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if provider == "smsru":
        fields = {"api_id": password, "to": phone, "msg": text, "json": "1"}
        if sender:
            fields["from"] = sender
        _status, data = _post(f"{url}/sms/send", urlencode(fields).encode(), form)
        answer = _json(data)
        one = (answer.get("sms") or {}).get(phone) or {}
        if answer.get("status") != "OK" or one.get("status") != "OK":
            reason = one.get("status_text") or answer.get("status_text") or answer
            code = one.get("status_code") or answer.get("status_code")
            raise SmsError(f"SMS.ru refused ({code}): {reason}")
        return str(one.get("sms_id") or "sent")
    if provider == "smsc":
        fields = {"login": login, "psw": password, "phones": phone, "mes": text,
                  "charset": "utf-8", "fmt": "3"}
        if sender:
            fields["sender"] = sender
        _status, data = _post(f"{url}/sys/send.php", urlencode(fields).encode(), form)
        answer = _json(data)
        if "error" in answer:
            raise SmsError(f"SMSC refused ({answer.get('error_code')}): {answer['error']}")
        return str(answer.get("id") or "sent")
    if provider == "http":
        if not url:
            raise SmsError("notify['sms.url'] is empty: the http gateway needs its address")
        headers = {"Content-Type": "application/json"}
        if password:
            headers["Authorization"] = f"Bearer {password}"
        body = json.dumps({"phone": phone, "text": text, "sender": sender}).encode()
        status, data = _post(url, body, headers)
        if not 200 <= status < 300:
            raise SmsError(f"the gateway answered HTTP {status}: {data[:200]!r}")
        return "sent"
    raise SmsError("no SMS gateway: set notify['sms.provider']")
