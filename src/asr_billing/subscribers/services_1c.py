"""Subscribers in the 1C exchange (system API api_1c_manager): created once per 1C code,
and the 1C side (code, synced flag) recorded."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.subscribers.service_common import clean_text, lock_subscriber


def _root_group() -> Group:
    root = Group.objects.filter(parent__isnull=True).order_by("id").first()
    if root is None:
        raise InvalidInput(_("There is no subscriber group yet; create one first"))
    return root


@transaction.atomic
def subscriber_create_from_1c(
    *, code1c: str, name: str, actor: Actor, group: Group | None = None
) -> tuple[Subscriber, bool]:
    """Create a subscriber that 1C already knows by ``code1c``, exactly once per code.

    Returns (subscriber, created). A repeat with the same code and name returns the
    existing subscriber (created=False); the same code with another name is refused,
    as a payment replay with another amount is. The subscriber lands in ``group`` (default:
    the first top-level group) without a tariff and counts as synced with 1C.
    """
    # Not at module level: services.py re-exports this module's functions.
    from asr_billing.subscribers.services import subscriber_create

    code = clean_text(code1c, _("1C code"), required=True, max_length=64)
    clean_name = clean_text(name, _("Name"), required=True)

    def existing() -> tuple[Subscriber, bool] | None:
        found = Subscriber.objects.filter(code1c=code).first()
        if found is None:
            return None
        if found.name.strip() != clean_name:
            raise Conflict(
                _("1C code %(code)s belongs to subscriber %(contract)s named %(name)s")
                % {"code": code, "contract": found.contract_number, "name": found.name}
            )
        return found, False

    found = existing()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            subscriber = subscriber_create(
                name=clean_name, group=group or _root_group(), actor=actor, code1c=code
            )
    except Conflict:
        # A concurrent request created it between our look and our insert.
        found = existing()
        if found is None:
            raise
        return found
    Subscriber.objects.filter(pk=subscriber.pk).update(synced_1c=True)
    subscriber.synced_1c = True
    return subscriber, True


@transaction.atomic
def subscriber_sync_1c(
    *, subscriber: Subscriber, actor: Actor, synced: bool, code1c: str | None = None
) -> Subscriber:
    """Record the 1C side of a subscriber: its code in 1C (when given) and whether it is
    synced. A code that another subscriber holds is refused, and so is marking synced a
    subscriber left without a code (1C finds its contractor by that code)."""
    locked = lock_subscriber(subscriber)
    old = {"code1c": locked.code1c, "synced_1c": locked.synced_1c}
    if code1c is not None:
        code = clean_text(code1c, _("1C code"), max_length=64)
        if code and Subscriber.objects.filter(code1c=code).exclude(pk=locked.pk).exists():
            raise Conflict(_("1C code %(c)s is taken") % {"c": code})
        locked.code1c = code
    if synced and not locked.code1c:
        # The text names this function's argument; api_1c_sync_abonent's is the same.
        raise InvalidInput(_("Argument %(name)s is required") % {"name": "code1c"},
                           code="code1c_required")
    locked.synced_1c = bool(synced)
    new = {"code1c": locked.code1c, "synced_1c": locked.synced_1c}
    if new == old:
        return locked
    try:
        with transaction.atomic():
            locked.save(update_fields=["code1c", "synced_1c"])
    except IntegrityError:
        raise Conflict(_("1C code %(c)s is taken") % {"c": locked.code1c}) from None
    audit_record(
        actor=actor, action="sync_1c", obj=locked, subscriber=locked, old=old, new=new
    )
    return locked
