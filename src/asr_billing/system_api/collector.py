"""collector_manager (context=collector): the per-NAS lists NAS scripts sync against,
and the IPTV plug-in's access list (collector_iptv_accept_list_get, at the end).

Without a format each list is text/plain, one line per login, 16 space-separated columns
in the product's order (the operator's notes)::

    %(ip)s %(login)s %(snatip)s %(mac)s %(logged)s %(negbal)s %(blocked)s %(rate_in)s
    %(ceil_in)s %(burst_in)s %(rate_out)s %(ceil_out)s %(burst_out)s %(nas_ip)s
    %(cburst_in)s %(cburst_out)s

Flags are 0/1; rates are the tariff's, in kbit/s. A value that is missing (no SNAT IP, no
MAC, a rate the tariff leaves unshaped) is written as ``None``: never empty, because a
script splitting on whitespace would shift every later column. ``None`` rather than
another marker because the product fills this very template with Python's ``%`` operator,
which writes a missing (NULL) value as ``None``, so scripts written for it already expect
that word. With format=json the rows are objects with the same 16 keys, missing values
null, flags 0/1 and rates as integers.
"""

from __future__ import annotations

import ipaddress

from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput
from asr_billing.network.services import normalize_ip
from asr_billing.subscribers.service_common import local_today
from asr_billing.system_api.params import Call
from asr_billing.system_api.registry import CABINET_ERRORS, api_function
from asr_billing.system_api.render import JsonObject, Lines
from asr_billing.system_api.selectors import collector_rows, collector_text, iptv_accept_rows
from asr_billing.tariffs.models import channel_names

LINE_KEYS = (
    "ip", "login", "snatip", "mac", "logged", "negbal", "blocked",
    "rate_in", "ceil_in", "burst_in", "rate_out", "ceil_out", "burst_out",
    "nas_ip", "cburst_in", "cburst_out",
)
PLACEHOLDER = "None"


def _nas_ip(call: Call) -> str:
    """The NAS address as NAS rows store it (network.services.normalize_ip): IPv4-mapped
    IPv6 as IPv4; a zone id (fe80::1%eth0) is not a NAS address."""
    text = call.args.text("nas_ip", required=True)
    try:
        return normalize_ip(text, "nas_ip")
    except InvalidInput:
        raise InvalidInput(
            _("nas_ip: %(value)s is not an IP address") % {"value": text[:64]}
        ) from None


def row(values: tuple) -> dict:
    """The JSON/XML form of one database row (COLLECTOR_COLUMNS order)."""
    (ip, login, snat_ip, mac, logged, negbal, admin_blocked, voluntary_blocked,
     rate_in, ceil_in, burst_in, rate_out, ceil_out, burst_out, nas_ip,
     cburst_in, cburst_out) = values
    return {
        "ip": ip or None,
        "login": login,
        "snatip": snat_ip or None,
        "mac": mac or None,
        "logged": int(bool(logged)),
        "negbal": int(bool(negbal)),
        "blocked": int(bool(admin_blocked or voluntary_blocked)),
        "rate_in": rate_in,
        "ceil_in": ceil_in,
        "burst_in": burst_in,
        "rate_out": rate_out,
        "ceil_out": ceil_out,
        "burst_out": burst_out,
        "nas_ip": nas_ip,
        "cburst_in": cburst_in,
        "cburst_out": cburst_out,
    }


def _n(value) -> str:
    return PLACEHOLDER if value is None else str(value)


def line(v: tuple) -> str:
    """The text line of one database row; a missing value is PLACEHOLDER so the columns
    never shift. Written out by hand: it runs once per login of the NAS."""
    return " ".join((
        v[0] or PLACEHOLDER, v[1], v[2] or PLACEHOLDER, v[3] or PLACEHOLDER,
        "1" if v[4] else "0", "1" if v[5] else "0", "1" if v[6] or v[7] else "0",
        _n(v[8]), _n(v[9]), _n(v[10]), _n(v[11]), _n(v[12]), _n(v[13]),
        v[14], _n(v[15]), _n(v[16]),
    ))


def _list(call: Call, kind: str) -> Lines:
    nas_ip = _nas_ip(call)
    return Lines(
        lambda: collector_rows(nas_ip=nas_ip, kind=kind),
        line,
        row,
        text_source=lambda: collector_text(nas_ip=nas_ip, kind=kind, placeholder=PLACEHOLDER),
    )


def _register(name: str, kind: str, doc: str):
    def function(call: Call) -> Lines:
        return _list(call, kind)

    function.__name__ = name
    function.__doc__ = doc
    api_function(
        f"collector_manager.{name}",
        context="collector",
        errors=CABINET_ERRORS,
        plain_errors="text",
        replica=True,
    )(function)
    return function


users_negbal = _register(
    "users_negbal", "negbal", "Logins on the NAS cut off by balance. arg1: {\"nas_ip\"}."
)
users_blocked = _register(
    "users_blocked",
    "blocked",
    "Logins blocked by the admin or a voluntary block. arg1: {\"nas_ip\"}.",
)
users_logged = _register(
    "users_logged", "logged", "Logins with an open session. arg1: {\"nas_ip\"}."
)


def _ip_order(ip: str) -> tuple[int, int]:
    address = ipaddress.ip_address(ip)
    return address.version, int(address)


@api_function(
    "collector_manager.collector_iptv_accept_list_get",
    context="collector",
    errors=CABINET_ERRORS,
    plain_errors="text",
    replica=True,
)
def collector_iptv_accept_list_get(call: Call) -> JsonObject:
    """arg1 ``{}``. For the IPTV plug-in (carbonsoft's Elecard V-Cinema library): a JSON
    object ``{"<subscriber ip>": ["<channel>", ...]}`` of every IP whose subscriber has an
    IPTV package (a service with channels) running today and is allowed online (not cut
    off by balance, not blocked by the administrator or a voluntary block); ``{}`` when
    there is none. JSON also without ``format=``: the plug-in sends none, and keeps its
    last list unless the body is a JSON object. Its channels: the packages' lists in
    package name order, a name once (the plug-in compares them without case). IPs in
    address order."""
    names_of: dict[int, list[str]] = {}
    channels: dict[str, list[str]] = {}
    seen: dict[str, set[str]] = {}
    for ip, service_id, text in iptv_accept_rows(day=local_today()):
        names = names_of.get(service_id)
        if names is None:
            names = names_of[service_id] = channel_names(text)
        listed = channels.setdefault(ip, [])
        known = seen.setdefault(ip, set())
        for name in names:
            if name.casefold() not in known:
                known.add(name.casefold())
                listed.append(name)
    return JsonObject((ip, channels[ip]) for ip in sorted(channels, key=_ip_order))
