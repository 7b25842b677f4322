"""Who may try a password now: the limits on logging in with a password, for subscribers
(``web_cabinet.login`` on both APIs, REST v2 ``check_pass``) and for operators (the admin
login form and the old REST API's login).

An attacker must slow down himself, not his victim. One attempt touches three counters
(``cabinet.throttle`` rules, limits from cabinet['login.*']):

- **the name from one client address** (scope ``login_ip`` / ``operator_ip``): after
  ``login.max_failures`` failures that pair is refused for ``login.lockout_minutes``. The
  guesser is locked out of that name; its owner, elsewhere, is not;
- **the client address** (scope ``ip``, shared by subscribers and operators): after
  ``login.ip_max_failures`` failures, whatever the names, that address is refused for
  ``login.lockout_minutes``;
- **the name from anywhere** (scope ``login`` / ``operator``): after ``login.delay_after``
  failures each further one refuses the name's next attempt for a short, growing delay
  (1 s, 2 s, 4 s … up to ``login.max_delay_seconds``) — many addresses guessing one
  name get a few guesses a minute, and its owner waits seconds, never a long lock.

The client address is the caller's, except for the servers listed in
network['api.cabinet_servers'] (cabinet web sites, integration servers): every subscriber
arrives from their address, so they are never counted as one client. They pass the
subscriber's address as ``src_ip``; without it the client is unknown and only the
name's delay applies.

Each attempt is counted as a failure before its password is compared, under the
counters' row lock (``cabinet.throttle.throttle_admit``), so a burst of parallel guesses
gets at most the limit tried. A success takes that advance back and forgets the pair's
failures; the name's count fades by itself (``login.lockout_minutes`` without a
failure), so a victim's own login does not hand an
attacker a fresh allowance, and an address never clears its count by logging in to an
account of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from asr_billing.cabinet.throttle import Admission, Rule, ip_key, throttle_admit
from asr_billing.core import runtime
from asr_billing.core.config import networks_contain
from asr_billing.core.errors import InvalidInput
from asr_billing.core.runtime import Snapshot
from asr_billing.network.services import normalize_ip

IP_SCOPE = "ip"
NAME_KEY_MAX = 150  # of a pair's key: the address after it always fits
FIRST_DELAY = timedelta(seconds=1)


@dataclass(frozen=True)
class LoginLimits:
    pair_failures: int  # per (name, client address); 0: none
    ip_failures: int  # per client address; 0: none
    lockout: timedelta  # how long a full pair or address is refused
    delay_after: int  # per name, before the growing delay; 0: none
    max_delay: timedelta


def login_limits(snapshot: Snapshot | None = None) -> LoginLimits:
    snap = snapshot or runtime.current()

    def number(key: str) -> int:
        return int(snap.get("cabinet", key))

    return LoginLimits(
        pair_failures=number("login.max_failures"),
        ip_failures=number("login.ip_max_failures"),
        lockout=timedelta(minutes=number("login.lockout_minutes")),
        delay_after=number("login.delay_after"),
        max_delay=timedelta(seconds=number("login.max_delay_seconds")),
    )


def _address(text) -> str | None:
    """A readable address in the form logins store it, else None."""
    if not text or not isinstance(text, str):
        return None
    try:
        return normalize_ip(text, "src_ip")
    except InvalidInput:
        return None


def is_cabinet_server(source_ip: str, snapshot: Snapshot | None = None) -> bool:
    snap = snapshot or runtime.current()
    return networks_contain(snap.cabinet_servers, source_ip)


def login_client_ip(*, source_ip: str, claimed, snapshot: Snapshot | None = None) -> str | None:
    """The address a subscriber's attempt comes from. From a cabinet server
    (network['api.cabinet_servers']): the ``src_ip`` it passes (``claimed``), or None when
    it passes none or an unreadable one, or one of the servers' own. From anyone else:
    the caller's own address — what a direct caller claims is not believed."""
    snap = snapshot or runtime.current()
    if not is_cabinet_server(source_ip, snap):
        return _address(source_ip) or source_ip
    address = _address(claimed)
    if address is None or networks_contain(snap.cabinet_servers, address):
        return None
    return address


@dataclass(frozen=True)
class LoginGuard:
    """The counters one password attempt touches. ``admit`` before comparing the
    password: refused (``wait`` set: answer the wait, nothing was counted), or counted as
    a failure in advance — a wrong password needs nothing more; a right one calls
    ``succeeded``. The password is compared after ``admit`` returns, holding no lock."""

    name: Rule
    pair: Rule | None
    address: Rule | None

    @property
    def rules(self) -> list[Rule]:
        return [rule for rule in (self.name, self.pair, self.address) if rule is not None]

    def admit(self, *, now: datetime) -> Admission:
        return throttle_admit(self.rules, now=now)

    def succeeded(self, admission: Admission) -> None:
        """Forget the pair's failures; take the advance back on the name and address."""
        admission.succeeded(forget={self.pair.scope} if self.pair is not None else set())


def _guard(name_scope: str, pair_scope: str, name: str, client_ip: str | None,
           limits: LoginLimits) -> LoginGuard:
    name = str(name or "").strip()
    lock = {"delay": limits.lockout, "max_delay": limits.lockout, "forget": limits.lockout}
    name_rule = Rule(name_scope, name, limits.delay_after, FIRST_DELAY, limits.max_delay,
                     forget=max(limits.lockout, limits.max_delay))
    address = ip_key(client_ip)
    if not address:
        return LoginGuard(name_rule, None, None)
    pair = Rule(pair_scope, f"{name[:NAME_KEY_MAX]} {address}" if name else "",
                limits.pair_failures, **lock)
    return LoginGuard(name_rule, pair, Rule(IP_SCOPE, address, limits.ip_failures, **lock))


def subscriber_login_guard(*, login: str, client_ip: str | None,
                           limits: LoginLimits | None = None) -> LoginGuard:
    """The guard of a subscriber's login name (``client_ip`` from ``login_client_ip``)."""
    return _guard("login", "login_ip", login, client_ip, limits or login_limits())


def operator_login_guard(*, username: str, client_ip: str,
                         limits: LoginLimits | None = None) -> LoginGuard:
    """The guard of an operator's username (the admin login form): the same limits as
    subscribers', counted apart from them but for the address."""
    return _guard("operator", "operator_ip", username, client_ip, limits or login_limits())


def throttled_text(wait: timedelta) -> str:
    """The refusal of an attempt that must wait: the text the cabinet clients show as
    ``{"error": ...}`` (seconds under a minute, else whole minutes rounded up)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return _("Too many failed logins. Try again in %(seconds)d s.") % {"seconds": seconds}
    return _("Too many failed logins. Try again in %(minutes)d min.") % {
        "minutes": math.ceil(seconds / 60)}
