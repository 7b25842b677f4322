"""What the import reads of each kind, and how a source object becomes our fields.

One ``Kind`` per model, in dependency order (``KINDS``): its wire model and filter, the
wire fields it asks for (``required`` ones the source must have; ``optional`` ones a
real Carbon may not have under that name, e.g. the shaping rates, which REST v2 names
only on asr-billing), the conversion of one object's wire fields to our model fields,
the references it needs to exist here, and the uniqueness rules checked before writing
(so the reason names the holder instead of quoting the database).

A conversion raises ``InvalidInput`` with one line; a field the source did not send is
left out of the result, so an update keeps our value and a creation gets our default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.core.errors import InvalidInput
from asr_billing.network.models import Login, Nas, NasType
from asr_billing.network.services import LOGIN_RE, normalize_ip, normalize_mac
from asr_billing.rest_v2.values import parse_value
from asr_billing.subscribers.models import AttributeValue, Group, Subscriber, SubscriberService
from asr_billing.tariffs.models import Service, Tariff

RATES = ("rate_in", "ceil_in", "burst_in", "cburst_in",
         "rate_out", "ceil_out", "burst_out", "cburst_out")


@dataclass(frozen=True)
class Ref:
    """A foreign key of ours that must point at a row here: ``attname`` -> ``kind``."""

    attname: str
    kind: str
    required: bool = False


@dataclass(frozen=True)
class Unique:
    """Our field no other row may hold (``when``: only for rows whose fields match)."""

    name: str
    text: Callable[[Any, int], str]  # (value, holder id) -> reason
    when: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    key: str
    label: Any  # lazy text: the kind's name in the report
    one: Any  # lazy text: one object of it, before its Carbon id ("subscriber 1301")
    wire: str
    lookup: dict
    model: type[Model]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    convert: Callable[[dict], dict]
    refs: tuple[Ref, ...] = ()
    uniques: tuple[Unique, ...] = ()
    conflict: Callable[[dict], str] | None = None  # reason for another IntegrityError
    audit_subscriber: str = ""  # our attname of the subscriber the audit entry is about


# --- values of the wire ---------------------------------------------------------------


def _text(data: dict, name: str, out: dict, ours: str) -> None:
    if name in data:
        value = data[name]
        out[ours] = "" if value is None else str(value).strip()


def _typed(data: dict, name: str, out: dict, ours: str, ftype: str) -> None:
    if name in data:
        value = data[name]
        out[ours] = None if value in (None, "") else parse_value(ftype, value, name=name)


def _flag(data: dict, name: str, out: dict, ours: str) -> None:
    if name in data:
        out[ours] = bool(data[name] not in (None, "") and parse_value("flag", data[name],
                                                                      name=name))


def _not_negative(out: dict, ours: str, label: str) -> None:
    value = out.get(ours)
    if isinstance(value, Decimal) and value < 0:
        raise InvalidInput(_("%(field)s %(value)s is negative") % {"field": label,
                                                                   "value": value})


# --- conversions ----------------------------------------------------------------------


def group_fields(data: dict) -> dict:
    out: dict = {}
    _text(data, "name", out, "name")
    _typed(data, "parent_id", out, "parent_id", "int")
    _text(data, "comments", out, "comments")
    return out


def _charge_method(out: dict, data: dict) -> None:
    _text(data, "charge_method", out, "charge_method")


def tariff_fields(data: dict) -> dict:
    out: dict = {}
    _text(data, "name", out, "name")
    _typed(data, "summa", out, "fee", "decimal")
    _charge_method(out, data)
    _typed(data, "disconnect_threshold", out, "disconnect_threshold", "decimal")
    for name in RATES:
        _typed(data, name, out, name, "int")
    _flag(data, "is_active", out, "is_active")
    _text(data, "comments", out, "comments")
    if out.get("fee") is None and "fee" in out:
        out["fee"] = Decimal("0.00")
    if out.get("disconnect_threshold") is None and "disconnect_threshold" in out:
        out["disconnect_threshold"] = Decimal("0.00")
    _not_negative(out, "fee", _("fee"))
    for name in RATES:
        if out.get(name) is not None and out[name] < 0:
            raise InvalidInput(_("%(field)s %(value)s is negative")
                               % {"field": name, "value": out[name]})
    return out


def service_fields(data: dict) -> dict:
    out: dict = {}
    _text(data, "name", out, "name")
    _typed(data, "summa", out, "fee", "decimal")
    if "fee" in out and out["fee"] is None:
        out["fee"] = Decimal("0.00")
    _charge_method(out, data)
    _text(data, "comments", out, "comments")
    for flag in ("is_show_web", "web_allow_enable", "web_allow_disable", "is_active"):
        _flag(data, flag, out, flag)
    _not_negative(out, "fee", _("fee"))
    return out


NAS_TYPES = {choice.value for choice in NasType}


def nas_fields(data: dict) -> dict:
    out: dict = {}
    _text(data, "name", out, "name")
    if "ip" in data:
        out["ip"] = normalize_ip(data["ip"], "IP")
        if out["ip"] is None:
            raise InvalidInput(_("the NAS has no IP address"))
    if "nas_type" in data:
        # Carbon's type names are not ours: what we do not know is "other".
        kind = str(data["nas_type"] or "").strip().lower()
        out["nas_type"] = kind if kind in NAS_TYPES else NasType.OTHER
    _text(data, "description", out, "description")
    return out


def subscriber_fields(data: dict) -> dict:
    out: dict = {}
    _text(data, "name", out, "name")
    _text(data, "contract_number", out, "contract_number")
    _typed(data, "parent_id", out, "group_id", "int")
    _typed(data, "tarif_id", out, "tariff_id", "int")
    _typed(data, "tarif_next_id", out, "tariff_next_id", "int")
    _typed(data, "tarif_next_date", out, "tariff_next_date", "date")
    _flag(data, "company", out, "is_company")
    _text(data, "email", out, "email")
    _text(data, "sms", out, "sms_phone")
    _text(data, "phone", out, "phone")
    _text(data, "address", out, "address")
    _text(data, "a_home_number", out, "apartment")
    _text(data, "code1c", out, "code1c")
    _flag(data, "sync1c", out, "synced_1c")
    _typed(data, "activate_date", out, "connected_on", "date")
    _text(data, "comments", out, "comments")
    if "contract_number" in out and not out["contract_number"]:
        raise InvalidInput(_("it has no contract number"))
    if out.get("tariff_next_id") is not None and out.get("tariff_next_date") is None:
        raise InvalidInput(_("its next tariff has no date"))
    if out.get("tariff_next_id") is None and "tariff_next_id" in out:
        out["tariff_next_date"] = None
    return out


def attribute_fields(data: dict) -> dict:
    out: dict = {}
    _typed(data, "abonent_id", out, "subscriber_id", "int")
    _typed(data, "attribute_id", out, "attribute_id", "int")
    _text(data, "attribute_value", out, "value")
    if out.get("attribute_id") is None or out["attribute_id"] < 1:
        raise InvalidInput(_("it has no attribute kind"))
    return out


def login_fields(data: dict) -> dict:
    out: dict = {}
    _text(data, "login", out, "login")
    if not LOGIN_RE.fullmatch(out.get("login", "")):
        raise InvalidInput(_("a login is 1-64 Latin letters, digits and . _ @ + -; got %(login)r")
                           % {"login": out.get("login", "")})
    if "ip" in data:
        out["ip"] = normalize_ip(data["ip"], "IP")
    if "snat_ip" in data:
        out["snat_ip"] = normalize_ip(data["snat_ip"], "SNAT IP")
    if "mac" in data:
        out["mac"] = normalize_mac(str(data["mac"] or ""))
    _flag(data, "enabled", out, "enabled")
    _typed(data, "abonent_id", out, "subscriber_id", "int")
    _typed(data, "nas_id", out, "nas_id", "int")
    _text(data, "comments", out, "comments")
    return out


def subscription_fields(data: dict) -> dict:
    out: dict = {}
    _typed(data, "abonent_id", out, "subscriber_id", "int")
    _typed(data, "usluga_id", out, "service_id", "int")
    _typed(data, "enable_date", out, "enabled_on", "date")
    _typed(data, "disable_date", out, "disabled_on", "date")
    _text(data, "comment", out, "comment")
    enabled, disabled = out.get("enabled_on"), out.get("disabled_on")
    if not isinstance(enabled, date):
        raise InvalidInput(_("it has no connection date"))
    if disabled is not None and disabled < enabled:
        raise InvalidInput(_("it is disconnected (%(off)s) before it was connected (%(on)s)")
                           % {"off": disabled, "on": enabled})
    return out


# --- the kinds, in dependency order ---------------------------------------------------

KINDS: tuple[Kind, ...] = (
    Kind(
        "groups", gettext_lazy("groups"), gettext_lazy("group"), "Abonents", {"is_folder": 1},
        Group, ("name", "parent_id"), ("comments",), group_fields,
        refs=(Ref("parent_id", "groups"),),
        conflict=lambda f: _("a group named %(name)s is already in that parent group here")
        % {"name": f.get("name")},
    ),
    Kind(
        "tariffs", gettext_lazy("tariffs"), gettext_lazy("tariff"), "Tarif", {}, Tariff,
        ("name",),
        ("summa", "charge_method", "disconnect_threshold", *RATES, "is_active", "comments"),
        tariff_fields,
        uniques=(Unique("name", lambda v, pk: _("the name %(v)s belongs to tariff %(pk)s here")
                        % {"v": v, "pk": pk}),),
    ),
    Kind(
        "services", gettext_lazy("services"), gettext_lazy("service"), "Usluga", {}, Service,
        ("name",),
        ("summa", "charge_method", "comments", "is_show_web", "web_allow_enable",
         "web_allow_disable", "is_active"),
        service_fields,
        uniques=(Unique("name", lambda v, pk: _("the name %(v)s belongs to service %(pk)s here")
                        % {"v": v, "pk": pk}),),
    ),
    Kind(
        "nas", gettext_lazy("NAS"), gettext_lazy("NAS"), "Nas", {}, Nas,
        ("name", "ip"), ("nas_type", "description"), nas_fields,
        uniques=(Unique("ip", lambda v, pk: _("the IP address %(v)s belongs to NAS %(pk)s here")
                        % {"v": v, "pk": pk}),),
    ),
    Kind(
        "subscribers", gettext_lazy("subscribers"), gettext_lazy("subscriber"), "Abonents",
        {"is_folder": 0}, Subscriber,
        ("name", "contract_number", "parent_id"),
        ("tarif_id", "tarif_next_id", "tarif_next_date", "company", "email", "sms", "phone",
         "address", "a_home_number", "code1c", "sync1c", "activate_date", "comments"),
        subscriber_fields,
        refs=(Ref("group_id", "groups", required=True), Ref("tariff_id", "tariffs"),
              Ref("tariff_next_id", "tariffs")),
        uniques=(
            Unique("contract_number",
                   lambda v, pk: _("the contract number %(v)s belongs to subscriber %(pk)s here")
                   % {"v": v, "pk": pk}),
            Unique("code1c", lambda v, pk: _("the 1C code %(v)s belongs to subscriber %(pk)s here")
                   % {"v": v, "pk": pk}),
        ),
        audit_subscriber="id",
    ),
    Kind(
        "attributes", gettext_lazy("attributes"), gettext_lazy("attribute"), "AttributeValues",
        {}, AttributeValue, ("abonent_id", "attribute_id", "attribute_value"),
        ("attribute_name",), attribute_fields,
        refs=(Ref("subscriber_id", "subscribers", required=True),),
        conflict=lambda f: _("subscriber %(s)s already has attribute %(a)s here")
        % {"s": f.get("subscriber_id"), "a": f.get("attribute_id")},
        audit_subscriber="subscriber_id",
    ),
    Kind(
        "logins", gettext_lazy("logins"), gettext_lazy("login"), "Users", {}, Login,
        ("login", "abonent_id"), ("ip", "mac", "snat_ip", "enabled", "nas_id", "comments"),
        login_fields,
        refs=(Ref("subscriber_id", "subscribers", required=True), Ref("nas_id", "nas")),
        uniques=(
            Unique("login", lambda v, pk: _("the login name %(v)s belongs to login %(pk)s here")
                   % {"v": v, "pk": pk}),
            Unique("ip", lambda v, pk: _("the IP address %(v)s belongs to enabled login %(pk)s "
                                         "here") % {"v": v, "pk": pk},
                   when={"enabled": True}),
        ),
        audit_subscriber="subscriber_id",
    ),
    Kind(
        "subscriptions", gettext_lazy("subscriptions"), gettext_lazy("subscription"),
        "UsersUsluga", {}, SubscriberService, ("abonent_id", "usluga_id", "enable_date"),
        ("disable_date", "comment"), subscription_fields,
        refs=(Ref("subscriber_id", "subscribers", required=True),
              Ref("service_id", "services", required=True)),
        conflict=lambda f: _("subscriber %(s)s already has service %(u)s connected here")
        % {"s": f.get("subscriber_id"), "u": f.get("service_id")},
        audit_subscriber="subscriber_id",
    ),
)

BY_KEY = {kind.key: kind for kind in KINDS}
