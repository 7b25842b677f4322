"""The interface every gateway implements, and the registry of gateway types.

A gateway is a thin adapter: it reads its wire into a ``Command`` (``parse``), the intake
(gateways/intake.py) runs the command through the services and says what happened as an
``Outcome`` with a ``Reason``, and the gateway writes that in its wire (``render``), with
its own code for each reason. Commands: ``check`` (may this account be paid?), ``pay``,
``cancel`` (where the protocol has it and the instance enables it) and ``status``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from django.http import HttpRequest, HttpResponse

from asr_billing.core.wire import same_secret
from asr_billing.gateways.config import GatewayInstance

COMMANDS = ("check", "pay", "cancel", "status")


class Reason(enum.Enum):
    """What happened, in the gateways' common words; each protocol maps it to a code."""

    OK = "ok"
    TEMPORARY = "temporary"  # the database did not answer: retry later
    BAD_REQUEST = "bad_request"  # the request cannot be read at all (a broken body)
    UNKNOWN_COMMAND = "unknown_command"
    BAD_ACCOUNT = "bad_account"  # the account field cannot be such a key
    NOT_FOUND = "not_found"  # no such subscriber
    INACTIVE = "inactive"  # the instance refuses this subscriber (blocked, negative)
    BAD_TXN = "bad_txn"  # the transaction id is missing or malformed
    BAD_AMOUNT = "bad_amount"  # the sum is missing or not an amount
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    BAD_DATE = "bad_date"
    MISMATCH = "mismatch"  # the transaction id was paid with another sum or account
    REFUSED = "refused"  # payments refused for technical reasons (operator off or unknown)
    CANCEL_NOT_FOUND = "cancel_not_found"  # no payment with that transaction id
    FORBIDDEN = "forbidden"  # the source IP is not allowed
    UNAUTHORIZED = "unauthorized"  # wrong credentials or signature
    INTERNAL = "internal"  # an unexpected failure (logged with its traceback)


class Refused(Exception):
    """A request is answered with ``reason`` before (or instead of) touching money."""

    def __init__(self, reason: Reason, detail: str = "", command: Command | None = None):
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail  # what the payer sent, for the protocol's comment
        self.command = command  # as far as it was read (its echo fields), when it was


@dataclass
class Command:
    """One request, read from the wire. ``amount``: roubles, already parsed (None when
    the request has no sum); the protocol checked the formats it defines."""

    kind: str  # one of COMMANDS
    txn_id: str = ""
    account: str = ""
    amount: Decimal | None = None
    extra: dict = field(default_factory=dict)  # protocol details the answer echoes


@dataclass
class Outcome:
    """What the intake did. ``operation``: the payment (pay, cancel, status; for a
    mismatch the original one); ``reversal``: the cancelling row; ``replay``: an earlier
    identical request did it already."""

    reason: Reason
    payer: object = None  # subscribers.selectors.PayerRef
    operation: object = None  # finance.models.Operation (only its own columns are read)
    reversal: object = None
    replay: bool = False
    contract_number: str = ""
    detail: str = ""
    state: str = ""  # status: done | reversed | not_found
    recommended: Decimal | None = None  # check, where the protocol shows it


class Gateway:
    """A payment protocol. Subclasses set ``type`` and implement ``parse`` and ``render``;
    the view calls them in this order: the source IP check (common to all),
    ``authenticate``, ``parse``, the intake, ``render``. A refusal at any step is
    rendered too, with the command as far as it was read."""

    type: ClassVar[str]
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")

    def authenticate(self, request: HttpRequest, instance: GatewayInstance) -> None:
        """Raise Refused(UNAUTHORIZED) unless the request carries the credentials the
        instance asks for. Default: HTTP basic auth when ``auth.user`` is set."""
        if instance.auth_user and not basic_auth_matches(request, instance):
            raise Refused(Reason.UNAUTHORIZED)

    def parse(self, request: HttpRequest, instance: GatewayInstance) -> Command:
        """The request as a Command; Refused (with the command as far as it was read)
        when it breaks the protocol's formats."""
        raise NotImplementedError

    def render(self, command: Command, outcome: Outcome) -> HttpResponse:
        """The answer, in the protocol's wire and codes (refusals included)."""
        raise NotImplementedError

    def unread(self, request: HttpRequest, instance: GatewayInstance) -> Command:
        """The command to render a refusal with before the request was read (source IP,
        credentials): nothing of the request is echoed."""
        return Command("")


GATEWAYS: dict[str, Gateway] = {}


def register(cls: type[Gateway]) -> type[Gateway]:
    """Class decorator: make a gateway type available at /pay/<type>/<name>/."""
    GATEWAYS[cls.type] = cls()
    return cls


def gateway_for(kind: str) -> Gateway | None:
    return GATEWAYS.get(kind)


def basic_auth_matches(request: HttpRequest, instance: GatewayInstance) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode(
            "utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Both compared (constant time each) so the time does not tell which one was wrong.
    user_ok = same_secret(user, instance.auth_user)
    password_ok = same_secret(password, instance.auth_password)
    return bool(sep) and user_ok and password_ok


# --- XML answers (OSMP and Sberbank): <response> with one element per line ---

# Characters XML 1.0 cannot carry at all (a client's echoed value may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: object, limit: int = 200) -> str:
    text = _NOT_XML.sub("", str(value))[:limit]
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_response(fields: list[tuple[str, object]], *, status: int = 200) -> HttpResponse:
    """``<?xml ...?><response><tag>value</tag>...</response>``, UTF-8, one element a
    line as QIWI's examples show it; fields whose value is None are left out."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<response>"]
    lines += [f"<{tag}>{xml_text(value)}</{tag}>" for tag, value in fields if value is not None]
    lines.append("</response>")
    return HttpResponse(("\n".join(lines) + "\n").encode("utf-8"), status=status,
                        content_type="text/xml; charset=utf-8")


def masked_name(name: str, is_company: bool) -> str:
    """The payer's name as a payment system shows it to whoever typed the account: a
    person's surname with initials ("Иванов И. И."), since contract numbers are easy to
    guess; a company's name as it is."""
    if is_company:
        return name
    words = name.split()
    if len(words) < 2:
        return name
    return " ".join([words[0], *(f"{word[0]}." for word in words[1:])])


HTTP_STATUS = {
    Reason.FORBIDDEN: 403,
    Reason.UNAUTHORIZED: 401,
}
