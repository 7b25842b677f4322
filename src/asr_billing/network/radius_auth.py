"""The RADIUS authorize decision: may this Access-Request go online, and with what.

``radius_authorize`` is a read: nothing is written on any answer. Refusals are written by
``radius_refusal_record``, from the post-auth call FreeRADIUS makes for an Access-Reject.
Authorize is the hot path — a thousand requests a second — so a request costs one query
(the login with its subscriber's state and tariff rates, as one row); the NAS comes from a
per-process cache (a few seconds old at most, cleared in this process when a NAS is saved
or deleted).

Who is who:

- the NAS: by NAS-IP-Address, else (absent, or not a NAS of ours) by the address the
  request came from (rlm_rest's X-Radius-Client header: FreeRADIUS's Packet-Src-IP-Address,
  which its client secret vouches for). Unknown: reject.
- PPPoE (a password attribute is present): the login by its exact name. PAP: we compare
  the User-Password and answer ``control:Auth-Type := Accept``. CHAP and MS-CHAP carry only
  a challenge response we cannot check: we hand FreeRADIUS ``control:Cleartext-Password``
  and its chap / mschap modules decide.
- IPoE (no password attribute): the enabled login holding the request's
  Framed-IP-Address or the MAC in Calling-Station-Id, as the NAS's ``ipoe_match`` says.

Refused: an unknown login (or address), a wrong password, a disabled login, and a login
bound to another NAS (``Login.nas`` set and different: the collector lists put a login on
its NAS only, so letting it in elsewhere would put it where nothing shapes or lists it; a
login without a NAS may use any). A subscriber who may not be online (the collector's
rule: ``negbal``, ``admin_blocked``, ``voluntary_blocked``) is refused or let into the "no
money" profile per radius['policy.<state>']; with several states, any "reject" wins.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from asr_billing.core.db import prepared_cursor
from asr_billing.core.errors import InvalidInput
from asr_billing.network.models import Login, Nas, RadiusAuthLog
from asr_billing.network.radius_class import class_token
from asr_billing.network.radius_config import RadiusSettings, radius_settings
from asr_billing.network.selectors import login_check_password, login_password
from asr_billing.network.services import normalize_mac
from asr_billing.network.shaping import no_money_attributes, rate_attributes

logger = logging.getLogger("asr_billing.radius")

LOGIN_MAX = Login._meta.get_field("login").max_length
USERNAME_MAX = RadiusAuthLog._meta.get_field("username").max_length
CALLING_STATION_MAX = RadiusAuthLog._meta.get_field("calling_station_id").max_length
REASON_MAX = RadiusAuthLog._meta.get_field("reason").max_length
NAS_CACHE_SECONDS = 5.0
NAS_CACHE_MAX = 4096  # distinct addresses remembered (unknown ones too) before a reset


@dataclass(frozen=True)
class AuthRequest:
    """What authorize reads from an Access-Request (strings as the NAS sent them)."""

    username: str
    nas_ip: str | None = None  # NAS-IP-Address
    source_ip: str | None = None  # the request's source (X-Radius-Client)
    user_password: str | None = None  # PAP; never logged
    chap: bool = False  # CHAP-Password or an MS-CHAP response is present
    framed_ip: str | None = None
    calling_station_id: str = ""


@dataclass(frozen=True)
class Decision:
    """Accept (with reply and control attributes) or reject (with a Reply-Message).

    ``reason`` is a short English tag for logs and the refusal log ("ok", "no-money:negbal",
    "wrong password", …), never shown to the subscriber; ``message`` is.
    """

    accept: bool
    reason: str
    message: str = ""
    reply: dict[str, list[str]] = field(default_factory=dict)
    control: dict[str, list[str]] = field(default_factory=dict)
    nas_id: int | None = None
    login_id: int | None = None


class _Row(NamedTuple):
    """One login with what the decision needs (the query's column order)."""

    id: int
    login: str
    password_enc: str
    enabled: bool
    ip: str | None
    nas_id: int | None
    negbal: bool
    admin_blocked: bool
    voluntary_blocked: bool
    has_tariff: int | None
    rate_in: int | None
    ceil_in: int | None
    burst_in: int | None
    cburst_in: int | None
    rate_out: int | None
    ceil_out: int | None
    burst_out: int | None
    cburst_out: int | None


_COLUMNS = (
    "id", "login", "password_enc", "enabled", "ip", "nas_id",
    "subscriber__negbal", "subscriber__admin_blocked", "subscriber__voluntary_blocked",
    "subscriber__tariff_id",
    "subscriber__tariff__rate_in", "subscriber__tariff__ceil_in",
    "subscriber__tariff__burst_in", "subscriber__tariff__cburst_in",
    "subscriber__tariff__rate_out", "subscriber__tariff__ceil_out",
    "subscriber__tariff__burst_out", "subscriber__tariff__cburst_out",
)

# ip -> (monotonic expiry, the NAS or None). The Nas objects are shared by the requests
# of this process until they expire: read them, never change or save them.
_nas_cache: dict[str, tuple[float, Nas | None]] = {}


def nas_cache_clear() -> None:
    _nas_cache.clear()


@receiver(post_save, sender=Nas, dispatch_uid="radius_auth_nas_saved")
@receiver(post_delete, sender=Nas, dispatch_uid="radius_auth_nas_deleted")
def _nas_changed(**kwargs) -> None:
    # Other processes see the change within NAS_CACHE_SECONDS.
    nas_cache_clear()


def canonical_ip(value: str | None) -> str | None:
    """An address as Nas/Login rows store it (IPv4-mapped IPv6 as IPv4); None if not one."""
    if not value or len(value) > 64:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return str(address)


def nas_by_ip(ip: str | None) -> Nas | None:
    """The NAS with this address, from the per-process cache (one query when stale).
    Read only: the object is shared with other requests of this process."""
    ip = canonical_ip(ip)
    if ip is None:
        return None
    now = time.monotonic()
    cached = _nas_cache.get(ip)
    if cached is not None and cached[0] > now:
        return cached[1]
    found = Nas.objects.filter(ip=ip).first()
    if len(_nas_cache) >= NAS_CACHE_MAX:
        _nas_cache.clear()
    _nas_cache[ip] = (now + NAS_CACHE_SECONDS, found)
    return found


def _find_nas(request: AuthRequest) -> Nas | None:
    nas = nas_by_ip(request.nas_ip) if request.nas_ip else None
    if nas is None and request.source_ip and request.source_ip != request.nas_ip:
        nas = nas_by_ip(request.source_ip)
    return nas


def _first(queryset) -> _Row | None:
    rows = list(queryset.values_list(*_COLUMNS)[:1])
    return _Row(*rows[0]) if rows else None


_BY_NAME_SQL = None


def _by_name_sql() -> str:
    """_COLUMNS for one login name, written out: building it with the ORM took more time
    than the database spent on it, and as a prepared statement PostgreSQL plans it once
    per connection (core.db.prepared_cursor)."""
    global _BY_NAME_SQL
    if _BY_NAME_SQL is None:
        from asr_billing.subscribers.models import Subscriber
        from asr_billing.tariffs.models import Tariff

        rates = ", ".join(f"t.{name}" for name in _Rates._fields)
        _BY_NAME_SQL = (
            "SELECT l.id, l.login, l.password_enc, l.enabled, l.ip, l.nas_id,"  # noqa: S608
            " s.negbal, s.admin_blocked, s.voluntary_blocked, s.tariff_id, " + rates
            + f" FROM {Login._meta.db_table} l"
            f" JOIN {Subscriber._meta.db_table} s ON s.id = l.subscriber_id"
            f" LEFT JOIN {Tariff._meta.db_table} t ON t.id = s.tariff_id"
            " WHERE l.login = %s"
        )
    return _BY_NAME_SQL


def _by_name(name: str) -> _Row | None:
    with prepared_cursor() as cursor:
        cursor.execute(_by_name_sql(), [name])
        row = cursor.fetchone()
    return _Row(*row) if row is not None else None


def _ipoe_row(request: AuthRequest, nas: Nas) -> tuple[_Row | None, str]:
    """The IPoE login (or None) and what it was looked up by, for the reason."""
    if nas.ipoe_match == "mac":
        try:
            mac = normalize_mac(request.calling_station_id[:64])
        except InvalidInput:
            mac = ""
        if not mac:
            return None, "no MAC in Calling-Station-Id"
        # A MAC is not unique among logins: the one on this NAS first, then the oldest.
        rows = [
            _Row(*r) for r in Login.objects.filter(mac=mac).order_by("-enabled", "id")
            .values_list(*_COLUMNS)[:8]
        ]
        enabled = [r for r in rows if r.enabled] or rows
        here = [r for r in enabled if r.nas_id == nas.id]
        return (here or enabled or [None])[0], f"MAC {mac}"
    ip = canonical_ip(request.framed_ip)
    if ip is None:
        return None, "no Framed-IP-Address"
    # An enabled login holds an address alone (a partial unique index); a disabled one
    # may keep a stale address, so it is looked for only when no enabled one has it.
    row = _first(Login.objects.filter(ip=ip, enabled=True))
    if row is None:
        row = _first(Login.objects.filter(ip=ip))
    return row, f"IP {ip}"


def _reject(reason: str, message: str, nas: Nas | None = None,
            row: _Row | None = None) -> Decision:
    return Decision(
        accept=False, reason=reason, message=message,
        nas_id=nas.id if nas else None, login_id=row.id if row else None,
    )


# Subscriber states in the order their refusal text is chosen: (flag, policy, reason).
def _states(row: _Row, config: RadiusSettings) -> list[tuple[str, str, str]]:
    states = []
    if row.admin_blocked:
        states.append(("admin-blocked", config.policy_admin_blocked,
                       _("Your account is blocked. Please contact support.")))
    if row.negbal:
        states.append(("negbal", config.policy_negbal,
                       _("Not enough money on your account. Please top it up.")))
    if row.voluntary_blocked:
        states.append(("voluntary-blocked", config.policy_voluntary_blocked,
                       _("Your account is on a voluntary block.")))
    return states


def _reply(row: _Row, nas: Nas, config: RadiusSettings, *, no_money: bool,
           decided_at: int) -> dict[str, list[str]]:
    reply: dict[str, list[str]] = {}
    extra = no_money_attributes(nas_type=nas.nas_type) if no_money else {}
    # A pool only redirects when the NAS picks the address from it: a static address
    # (which wins over Framed-Pool on MikroTik) would bypass it, so the pool drops it.
    if row.ip and not (no_money and "Framed-Pool" in extra):
        name = "Framed-IP-Address" if ":" not in row.ip else "Framed-IPv6-Address"
        reply[name] = [row.ip]
    reply["Acct-Interim-Interval"] = [str(config.interim_interval)]
    if not no_money and config.session_timeout > 0:
        reply["Session-Timeout"] = [str(config.session_timeout)]
    reply["Class"] = [class_token(login_id=row.id, decided_at=decided_at, no_money=no_money)]
    if no_money:
        reply.update(extra)
    elif row.has_tariff is not None:
        rates = _Rates(*row[10:18])
        reply.update(rate_attributes(nas_type=nas.nas_type, tariff=rates))
    return reply


class _Rates(NamedTuple):
    rate_in: int | None
    ceil_in: int | None
    burst_in: int | None
    cburst_in: int | None
    rate_out: int | None
    ceil_out: int | None
    burst_out: int | None
    cburst_out: int | None


def radius_authorize(*, request: AuthRequest, decided_at: int | None = None) -> Decision:
    """Decide one Access-Request. ``decided_at``: Unix seconds for the Class (now).
    Database errors propagate (the adapter answers 503: FreeRADIUS fails the request)."""
    config = radius_settings()
    nas = _find_nas(request)
    if nas is None:
        return _reject(f"unknown NAS {request.nas_ip or request.source_ip or '-'}",
                       _("This access server is not registered with the billing."))
    pppoe = request.user_password is not None or request.chap
    if pppoe:
        # Longer than the column: no such login, and no need to ask the database.
        name = request.username
        row = _by_name(name) if 0 < len(name) <= LOGIN_MAX else None
        if row is None:
            return _reject("unknown login", _("Wrong login or password."), nas)
    else:
        row, looked_up_by = _ipoe_row(request, nas)
        if row is None:
            return _reject(f"unknown device ({looked_up_by})",
                           _("This connection is not registered. Please contact support."),
                           nas)
    if not row.enabled:
        return _reject("login disabled", _("This login is disabled."), nas, row)
    if row.nas_id is not None and row.nas_id != nas.id:
        return _reject(f"login belongs to NAS {row.nas_id}",
                       _("This login may not connect through this access server."), nas, row)
    control: dict[str, list[str]]
    if request.user_password is not None:
        if not login_check_password(Login(password_enc=row.password_enc),
                                    request.user_password):
            return _reject("wrong password", _("Wrong login or password."), nas, row)
        control = {"Auth-Type": ["Accept"]}
    elif request.chap:
        try:
            cleartext = login_password(Login(password_enc=row.password_enc))
        except ValueError:
            logger.error("login %s: password cannot be decrypted (key file?)", row.id)
            cleartext = ""
        if not cleartext:
            return _reject("no password stored", _("Wrong login or password."), nas, row)
        control = {"Cleartext-Password": [cleartext]}
    else:
        control = {"Auth-Type": ["Accept"]}
    states = _states(row, config)
    for state, policy, message in states:
        if policy != "redirect":
            return _reject(state, message, nas, row)
    decided_at = int(time.time()) if decided_at is None else decided_at
    no_money = bool(states)
    return Decision(
        accept=True,
        reason=f"no-money:{states[0][0]}" if no_money else "ok",
        reply=_reply(row, nas, config, no_money=no_money, decided_at=decided_at),
        control=control,
        nas_id=nas.id,
        login_id=row.id,
    )


def radius_refusal_record(
    *, nas_id: int | None, username: str, calling_station_id: str, reason: str
) -> RadiusAuthLog:
    """Write one refused authorization (the post-auth call of an Access-Reject): the login
    by its exact name when there is one; texts cut to their columns, as the NAS sent them."""
    login_id = None
    if 0 < len(username) <= LOGIN_MAX:
        login_id = Login.objects.filter(login=username).values_list("id", flat=True).first()
    return RadiusAuthLog.objects.create(
        nas_id=nas_id,
        login_id=login_id,
        username=username[:USERNAME_MAX],
        calling_station_id=calling_station_id[:CALLING_STATION_MAX],
        reason=reason[:REASON_MAX],
    )
