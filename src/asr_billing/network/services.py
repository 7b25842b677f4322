"""Writes about logins and NAS devices. Passwords are encrypted, never logged or audited."""

from __future__ import annotations

import ipaddress
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.network.crypto import encrypt_secret
from asr_billing.network.models import Login, Nas, NasType

LOGIN_RE = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
MAC_HEX = re.compile(r"[0-9a-fA-F]{12}")


def normalize_mac(value: str) -> str:
    """Any common MAC notation -> ``00:1a:2b:3c:4d:5e``; empty stays empty."""
    text = (value or "").strip()
    if not text:
        return ""
    digits = re.sub(r"[\s:.\-]", "", text)
    if not MAC_HEX.fullmatch(digits):
        raise InvalidInput(_("Invalid MAC address: %(mac)s") % {"mac": value})
    digits = digits.lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def normalize_ip(value, field: str) -> str | None:
    """An IP address in its canonical form; empty -> None.

    An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) is stored as the IPv4 address, so
    one address cannot be held by two enabled logins under two spellings. IPv6 zone ids
    (``fe80::1%eth0``) are refused: they name an interface of one host, and PostgreSQL's
    inet type cannot store them.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    error = InvalidInput(
        _("%(field)s: %(value)s is not an IP address") % {"field": field, "value": value}
    )
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise error from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            raise error
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return str(address)


NAS_NAME_MAX = 200


def _nas_name(name: str) -> str:
    text = (name or "").strip()
    if not text:
        raise InvalidInput(_("The NAS needs a name"))
    if len(text) > NAS_NAME_MAX:
        raise InvalidInput(
            _("The NAS name is longer than %(n)d characters") % {"n": NAS_NAME_MAX}
        )
    return text


def check_password(password: str) -> str:
    """Rules the cabinet also applies: no spaces, 1..64 characters (CHAP needs it as is)."""
    if not isinstance(password, str) or not password:
        raise InvalidInput(_("The password cannot be empty"))
    if any(c.isspace() for c in password) or len(password) > 64:
        raise InvalidInput(_("The password must have no spaces and at most 64 characters"))
    return password


def _ip_conflict(ip: str | None) -> Conflict:
    return Conflict(_("IP address %(ip)s belongs to another enabled login") % {"ip": ip})


@transaction.atomic
def login_create(
    *,
    subscriber,
    login: str,
    password: str,
    actor: Actor,
    ip: str | None = None,
    mac: str = "",
    snat_ip: str | None = None,
    nas: Nas | None = None,
    enabled: bool = True,
) -> Login:
    name = (login or "").strip()
    if not LOGIN_RE.fullmatch(name):
        raise InvalidInput(
            _("A login is 1-64 Latin letters, digits and . _ @ + -; got %(login)r")
            % {"login": login}
        )
    record = Login(
        subscriber=subscriber,
        login=name,
        password_enc=encrypt_secret(check_password(password)),
        enabled=enabled,
        ip=normalize_ip(ip, "IP"),
        mac=normalize_mac(mac),
        snat_ip=normalize_ip(snat_ip, "SNAT IP"),
        nas=nas,
    )
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        if Login.objects.filter(login=name).exists():
            raise Conflict(_("Login %(login)s is taken") % {"login": name}) from None
        if record.ip and Login.objects.filter(ip=record.ip, enabled=True).exists():
            raise _ip_conflict(record.ip) from None
        raise
    audit_record(
        actor=actor,
        action="login_create",
        obj=record,
        subscriber=subscriber,
        new={"login": name, "ip": record.ip, "mac": record.mac, "nas": nas.pk if nas else None},
    )
    return record


@transaction.atomic
def login_set_password(*, login: Login, password: str, actor: Actor) -> None:
    encrypted = encrypt_secret(check_password(password))
    Login.objects.filter(pk=login.pk).update(password_enc=encrypted)
    login.password_enc = encrypted
    audit_record(actor=actor, action="password_change", obj=login, subscriber=login.subscriber)


@transaction.atomic
def login_update(
    *,
    login: Login,
    actor: Actor,
    ip=...,
    mac=...,
    snat_ip=...,
    nas=...,
    enabled=...,
) -> Login:
    """Change the network side of a login; arguments left out stay as they are."""
    locked = Login.objects.select_for_update().get(pk=login.pk)
    old = {"ip": locked.ip, "mac": locked.mac, "snat_ip": locked.snat_ip,
           "nas": locked.nas_id, "enabled": locked.enabled}
    if ip is not ...:
        locked.ip = normalize_ip(ip, "IP")
    if mac is not ...:
        locked.mac = normalize_mac(mac)
    if snat_ip is not ...:
        locked.snat_ip = normalize_ip(snat_ip, "SNAT IP")
    if nas is not ...:
        locked.nas = nas
    if enabled is not ...:
        locked.enabled = bool(enabled)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise _ip_conflict(locked.ip) from None
    new = {"ip": locked.ip, "mac": locked.mac, "snat_ip": locked.snat_ip,
           "nas": locked.nas_id, "enabled": locked.enabled}
    if new != old:
        audit_record(actor=actor, action="login_update", obj=locked,
                     subscriber=locked.subscriber, old=old, new=new)
    return locked


IPOE_MATCHES = ("ip", "mac")


def _coa_port(value) -> int:
    """A UDP port 1-65535 (RFC 5176's default is 3799)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidInput(_("The CoA port must be a number from 1 to 65535"))
    return value


def _ipoe_match(value) -> str:
    if value not in IPOE_MATCHES:
        raise InvalidInput(_("IPoE match is ip or mac"))
    return value


@transaction.atomic
def nas_create(
    *, name: str, ip: str, actor: Actor, nas_type: str = NasType.OTHER, radius_secret: str = "",
    description: str = "", coa_port: int = 3799, ipoe_match: str = "ip",
) -> Nas:
    """A new NAS. ``coa_port``: where it takes CoA / Disconnect-Requests; ``ipoe_match``:
    what finds an IPoE subscriber in its Access-Requests ("ip" or "mac")."""
    name = _nas_name(name)
    coa_port = _coa_port(coa_port)
    ipoe_match = _ipoe_match(ipoe_match)
    if nas_type not in NasType.values:
        raise InvalidInput(_("Unknown NAS type: %(type)s") % {"type": nas_type})
    address = normalize_ip(ip, "IP")
    if address is None:
        raise InvalidInput(_("The NAS needs an IP address"))
    nas = Nas(
        name=name,
        ip=address,
        nas_type=nas_type,
        radius_secret_enc=encrypt_secret(radius_secret) if radius_secret else "",
        description=description,
        coa_port=coa_port,
        ipoe_match=ipoe_match,
    )
    try:
        with transaction.atomic():
            nas.save()
    except IntegrityError:
        raise Conflict(_("A NAS with IP %(ip)s exists already") % {"ip": address}) from None
    audit_record(actor=actor, action="nas_create", obj=nas, new={"name": nas.name, "ip": address})
    return nas


@transaction.atomic
def nas_update(
    *,
    nas: Nas,
    actor: Actor,
    name=...,
    ip=...,
    nas_type=...,
    description=...,
    radius_secret: str | None = None,
    coa_port=...,
    ipoe_match=...,
) -> Nas:
    """Change a NAS; arguments left out stay as they are. ``radius_secret`` None keeps the
    secret, a string replaces it (encrypted; the audit row only says that it changed)."""
    locked = Nas.objects.select_for_update().get(pk=nas.pk)
    old = {"name": locked.name, "ip": locked.ip, "nas_type": locked.nas_type,
           "description": locked.description, "coa_port": locked.coa_port,
           "ipoe_match": locked.ipoe_match}
    if name is not ...:
        locked.name = _nas_name(name)
    if ip is not ...:
        address = normalize_ip(ip, "IP")
        if address is None:
            raise InvalidInput(_("The NAS needs an IP address"))
        locked.ip = address
    if nas_type is not ...:
        if nas_type not in NasType.values:
            raise InvalidInput(_("Unknown NAS type: %(type)s") % {"type": nas_type})
        locked.nas_type = nas_type
    if description is not ...:
        locked.description = description or ""
    if coa_port is not ...:
        locked.coa_port = _coa_port(coa_port)
    if ipoe_match is not ...:
        locked.ipoe_match = _ipoe_match(ipoe_match)
    if radius_secret is not None:
        locked.radius_secret_enc = encrypt_secret(radius_secret) if radius_secret else ""
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise Conflict(_("A NAS with IP %(ip)s exists already") % {"ip": locked.ip}) from None
    new = {"name": locked.name, "ip": locked.ip, "nas_type": locked.nas_type,
           "description": locked.description, "coa_port": locked.coa_port,
           "ipoe_match": locked.ipoe_match}
    if new != old or radius_secret is not None:
        if radius_secret is not None:
            new["radius_secret_changed"] = True  # never the value
        audit_record(actor=actor, action="nas_update", obj=locked, old=old, new=new)
    return locked
