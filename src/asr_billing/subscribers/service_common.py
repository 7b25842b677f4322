"""Checks and locks shared by the subscriber services (services.py, services_1c.py,
services_profile.py, services_uslugi.py). Bad input raises InvalidInput with a text
naming the field."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import InvalidInput
from asr_billing.subscribers.models import Subscriber


def clean_text(value: str, field: str, *, required: bool = False, max_length: int = 255) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(_("%(field)s is required") % {"field": field})
    if len(text) > max_length:
        raise InvalidInput(
            _("%(field)s is longer than %(n)d characters") % {"field": field, "n": max_length}
        )
    return text


def clean_email(value: str) -> str:
    text = clean_text(value, _("E-mail"), max_length=254)
    if text:
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidInput(_("%(value)s is not an e-mail address") % {"value": text}) from None
    return text


_PHONE_CHARS = frozenset("0123456789+()- ")


def clean_phone(value: str, field: str, max_length: int) -> str:
    text = clean_text(value, field, max_length=max_length)
    if text and (not set(text) <= _PHONE_CHARS or not any(c.isdigit() for c in text)):
        raise InvalidInput(
            _("%(field)s: %(value)s is not a phone number") % {"field": field, "value": text}
        )
    return text


def lock_subscriber(subscriber: Subscriber) -> Subscriber:
    """The subscriber's row, locked for the rest of the transaction and read fresh."""
    return Subscriber.objects.select_for_update().get(pk=subscriber.pk)


def local_today() -> date:
    """Today in the operator's time zone (app['time_zone'])."""
    from asr_billing.billing.periods import local_today as today_in

    return today_in(runtime.current().time_zone)


def save_changed(locked: Subscriber, *, old: dict, new: dict, action: str, actor: Actor) -> None:
    """Save the fields whose value in ``new`` differs from ``old`` (the keys are field
    names, the values as the audit shows them) with one audit row of those; nothing when
    none differs."""
    changed = [name for name in new if new[name] != old[name]]
    if not changed:
        return
    locked.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=action,
        obj=locked,
        subscriber=locked,
        old={name: old[name] for name in changed},
        new={name: new[name] for name in changed},
    )
