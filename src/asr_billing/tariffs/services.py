"""Writes about tariffs and services ("uslugi"): each change is validated, audited with
the fields before and after, and takes effect in the same transaction.

A tariff's disconnect threshold decides who is cut off (finance/state.py): changing it
recomputes negbal for every subscriber on the tariff at once, as a payment would, instead
of leaving them in the old state until their next payment or charge.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, Model
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, actor_fields, audit_record
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import amount_too_large, too_large
from asr_billing.finance.state import is_negbal
from asr_billing.tariffs.models import Service, Tariff, channel_names

ID_BATCH = 500  # ids per IN (...) list: SQLite limits the parameters of one statement


def _editable(model: type[Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key]


def _state(obj: Model) -> dict:
    """The editable fields as audit JSON: money and other Decimals as strings."""
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name in _editable(type(obj))
        for value in [getattr(obj, name)]
    }


def _assign(obj: Model, fields: dict) -> None:
    allowed = set(_editable(type(obj)))
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(
            _("Unknown fields of %(model)s: %(names)s")
            % {"model": type(obj)._meta.verbose_name, "names": ", ".join(unknown)}
        )
    for name, value in fields.items():
        if isinstance(value, float):
            raise TypeError(f"{name} must not be a float; pass Decimal or str")
        setattr(obj, name, value)


# Money fields a check constraint keeps at zero or above: said in words, not by its name.
NOT_NEGATIVE = {Tariff: ("fee", "voluntary_block_fee", "promised_amount"), Service: ("fee",)}


def _validate(obj: Model) -> None:
    """The model's own checks (choices, ranges, unique name, constraints) as InvalidInput."""
    for field in type(obj)._meta.concrete_fields:
        # Said in words before Django's "no more than 12 digits before the decimal point"
        # (or a 500 from the column, for an amount built outside the admin's form).
        if isinstance(field, DecimalField) and too_large(getattr(obj, field.attname)):
            raise amount_too_large(capfirst(field.verbose_name))
    try:
        obj.clean_fields()  # converts text to Decimal, int... first
        for name in NOT_NEGATIVE.get(type(obj), ()):
            value = getattr(obj, name)
            if value is not None and value < 0:
                raise InvalidInput(
                    _("%(field)s cannot be negative")
                    % {"field": type(obj)._meta.get_field(name).verbose_name}
                )
        obj.full_clean()
    except ValidationError as exc:
        texts = []
        for name, messages in exc.message_dict.items():
            label = type(obj)._meta.get_field(name).verbose_name if name != "__all__" else ""
            texts += [f"{label}: {m}" if label else m for m in messages]
        raise InvalidInput("; ".join(texts)) from None


def _create(model: type[Model], action: str, *, actor: Actor, fields: dict) -> Model:
    obj = model()
    _assign(obj, fields)
    _validate(obj)
    obj.save()
    audit_record(actor=actor, action=action, obj=obj, new=_state(obj))
    return obj


def _update(obj: Model, action: str, *, actor: Actor, fields: dict) -> tuple[Model, set[str]]:
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    old = _state(locked)
    _assign(locked, fields)
    _validate(locked)
    new = _state(locked)
    changed = {name for name in new if new[name] != old[name]}
    if changed:
        locked.save(update_fields=sorted(changed))
        audit_record(
            actor=actor,
            action=action,
            obj=locked,
            old={name: old[name] for name in sorted(changed)},
            new={name: new[name] for name in sorted(changed)},
        )
    return locked, changed


@transaction.atomic
def tariff_create(*, actor: Actor, **fields) -> Tariff:
    """Create a tariff from model field values (``name``, ``fee``, ``charge_method``...)."""
    return _create(Tariff, "tariff_create", actor=actor, fields=fields)


@transaction.atomic
def tariff_update(*, tariff: Tariff, actor: Actor, **fields) -> Tariff:
    """Change fields of a tariff; the ones left out stay. A new disconnect threshold cuts
    off, or restores, its subscribers at once (see tariff_negbal_refresh)."""
    locked, changed = _update(tariff, "tariff_update", actor=actor, fields=fields)
    if "disconnect_threshold" in changed:
        tariff_negbal_refresh(tariff=locked, actor=actor)
    return locked


def tariff_negbal_refresh(*, tariff: Tariff, actor: Actor) -> int:
    """Recompute negbal for every subscriber on ``tariff``; returns how many moved.

    Locks their accounts in id order first (the order of the billing run, and accounts
    before subscribers as every money service does), so a payment running meanwhile waits
    and then judges by the new threshold. Set-based: one query for the accounts, one for
    the flags, one UPDATE per direction and one INSERT of the audit rows.
    """
    from asr_billing.finance.models import Account
    from asr_billing.subscribers.models import Subscriber

    with transaction.atomic():
        accounts = list(
            Account.objects.select_for_update(of=("self",))
            .filter(subscriber__tariff=tariff)
            .order_by("pk")
            .values_list("pk", "balance", "credit_limit", "promised_amount")
        )
        # Read after the locks: a joined row would be as it was before a wait for one.
        flags = dict(Subscriber.objects.filter(tariff=tariff).values_list("pk", "negbal"))
        moved: dict[bool, list[int]] = {True: [], False: []}
        entries = []
        who = actor_fields(actor)
        for pk, balance, credit, promised in accounts:
            if pk not in flags:
                continue  # moved to another tariff meanwhile
            negbal = is_negbal(balance=balance, credit_limit=credit, promised=promised,
                               threshold=tariff.disconnect_threshold)
            if negbal == flags[pk]:
                continue
            moved[negbal].append(pk)
            entries.append(AuditEntry(
                **who, action="negbal_on" if negbal else "negbal_off", subscriber_id=pk,
                object_type="subscriber", object_id=str(pk), old={"negbal": not negbal},
                new={"negbal": negbal, "balance": str(balance)},
            ))
        for value, ids in moved.items():
            for start in range(0, len(ids), ID_BATCH):
                Subscriber.objects.filter(pk__in=ids[start : start + ID_BATCH]).update(
                    negbal=value
                )
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


MAX_CHANNELS = 2000  # per IPTV package; every subscriber's entry repeats them
MAX_CHANNEL_LENGTH = 200


def channels_normalize(text: str | None) -> str:
    """An IPTV package's channel list as stored: one name per line, each stripped, no
    blank lines, the first of names that differ only in case (the IPTV plug-in compares
    them without case, so a repeat is noise in every subscriber's entry)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InvalidInput(_("TV channels: one channel name per line, as text"))
    names: list[str] = []
    seen: set[str] = set()
    for name in channel_names(text):
        if len(name) > MAX_CHANNEL_LENGTH:
            raise InvalidInput(
                _("TV channels: %(name)s… is longer than %(n)d characters")
                % {"name": name[:40], "n": MAX_CHANNEL_LENGTH}
            )
        if name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    if len(names) > MAX_CHANNELS:
        raise InvalidInput(
            _("TV channels: at most %(n)d channels in a package") % {"n": MAX_CHANNELS}
        )
    return "\n".join(names)


def _with_channels(fields: dict) -> dict:
    if "channels" in fields:
        fields = {**fields, "channels": channels_normalize(fields["channels"])}
    return fields


@transaction.atomic
def service_create(*, actor: Actor, **fields) -> Service:
    """Create a service (static IP, TV...) from model field values. ``channels`` (one
    name per line) makes it an IPTV package; see channels_normalize."""
    return _create(Service, "service_create", actor=actor, fields=_with_channels(fields))


@transaction.atomic
def service_update(*, service: Service, actor: Actor, **fields) -> Service:
    """Change fields of a service; the ones left out stay. A new fee applies to the
    charges the billing run posts from now on; a new channel list to the next
    collector_iptv_accept_list_get."""
    return _update(service, "service_update", actor=actor, fields=_with_channels(fields))[0]
