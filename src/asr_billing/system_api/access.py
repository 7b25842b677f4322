"""Who may call: the source IP allow-list, enabled contexts and context passwords.

The checks run in this order and the first failure is the answer (HTTP 403); nothing
about the installation is revealed beyond the failed check's own text:

1. the source IP is in network['api.allowed_ips'] (X-Forwarded-For is believed only
   when the peer is in network['api.trusted_proxies']);
2. the context is listed in network['api.context'], else exactly ``Context=<name> is not
   defined`` (the product's text, operators search for it);
3. ``psw`` equals network['api.<context>.psw'] (constant-time). For ``context=web`` a
   missing psw is accepted from an allowed IP: the JS, Kotlin and Go cabinet clients send
   none (reference §2); a psw that is sent is checked.

The fourth check — a function answers only under its own context — is in the view,
after the function is looked up.
"""

from __future__ import annotations

import ipaddress

from django.utils.translation import gettext as _

from asr_billing.core.config import networks_contain
from asr_billing.core.runtime import Snapshot
from asr_billing.core.wire import same_secret

# Contexts whose clients may omit psw (accepted only from an allowed IP).
CONTEXTS_WITHOUT_PSW = frozenset({"web"})


class Refusal(Exception):
    """An access check failed; ``text`` is the whole answer."""

    def __init__(self, text: str, reason: str):
        super().__init__(text)
        self.text = text
        self.reason = reason  # short tag for the log: ip, context, psw, method


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip().split("%", 1)[0]))
    except ValueError:
        return None


def client_ip(meta: dict, snapshot: Snapshot) -> str:
    """The caller's address. X-Forwarded-For counts only when the peer is a trusted proxy;
    then the rightmost address that is not itself a trusted proxy is the client."""
    peer = meta.get("REMOTE_ADDR", "") or ""
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    proxies = snapshot.trusted_proxies
    if not forwarded or not proxies or not networks_contain(proxies, peer):
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            return hop[:64]  # unreadable: fails the allow-list below
        if not networks_contain(proxies, address):
            return address
    return _ip(hops[0]) or peer if hops else peer


def check_ip(source_ip: str, snapshot: Snapshot) -> None:
    if not networks_contain(snapshot.allowed_networks, source_ip):
        raise Refusal(
            _("Access denied: %(ip)s is not in the system API allow-list") % {"ip": source_ip},
            "ip",
        )


def check_context(context: str, snapshot: Snapshot) -> None:
    if context not in snapshot.contexts:
        # The product's exact text; clients and operators' notes search for it.
        raise Refusal(f"Context={context[:64]} is not defined", "context")


def check_password(context: str, psw: str | None, snapshot: Snapshot) -> None:
    expected = snapshot.passwords.get(context, "")
    if not psw:
        if context in CONTEXTS_WITHOUT_PSW:
            return
        raise Refusal(_("Access denied: psw is required for context=%(c)s") % {"c": context}, "psw")
    # An empty configured password never matches: a context is not opened by a blank line.
    if not expected or not same_secret(psw, expected):
        raise Refusal(_("Access denied: wrong psw for context=%(c)s") % {"c": context}, "psw")


def check_access(*, source_ip: str, context: str, psw: str | None, snapshot: Snapshot) -> None:
    """Raise Refusal at the first failed check (IP, context, password)."""
    check_ip(source_ip, snapshot)
    check_context(context, snapshot)
    check_password(context, psw, snapshot)
