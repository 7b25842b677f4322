"""How a subscriber is reached (contacts) and the subscriber's attribute values (INN,
KPP, addresses...): used by the admin, the cabinet and REST v2."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.service_common import (
    clean_email,
    clean_phone,
    clean_text,
    lock_subscriber,
    save_changed,
)


@transaction.atomic
def subscriber_contacts_update(
    *, subscriber: Subscriber, actor: Actor, sms_phone=..., phone=..., email=..., apartment=...
) -> Subscriber:
    """Change how the subscriber is reached: SMS phone, phone, e-mail, apartment number.
    Arguments left out stay as they are; each value is checked before anything changes."""
    locked = lock_subscriber(subscriber)
    fields = ("sms_phone", "phone", "email", "apartment")
    old = {name: getattr(locked, name) for name in fields}
    if sms_phone is not ...:
        locked.sms_phone = clean_phone(sms_phone, _("Phone for SMS"), 32)
    if phone is not ...:
        locked.phone = clean_phone(phone, _("Phone"), 64)
    if email is not ...:
        locked.email = clean_email(email)
    if apartment is not ...:
        locked.apartment = clean_text(apartment, _("Apartment"), max_length=32)
    new = {name: getattr(locked, name) for name in fields}
    save_changed(locked, old=old, new=new, action="contacts_change", actor=actor)
    return locked


@transaction.atomic
def attribute_value_create(*, subscriber: Subscriber, attribute_id: int, value: str, actor: Actor):
    """Give the subscriber a value of an attribute kind (INN 4, KPP 5, Telegram id 1012...).
    A subscriber holds one value per kind: a second one is refused (change it instead)."""
    from asr_billing.core.errors import NotFound
    from asr_billing.subscribers.models import Attribute, AttributeValue

    attribute = Attribute.objects.filter(pk=attribute_id).first()
    if attribute is None:
        raise NotFound(_("Attribute %(id)s does not exist") % {"id": attribute_id})
    text = clean_text(value, attribute.name, max_length=1000)
    record = AttributeValue(subscriber=subscriber, attribute=attribute, value=text)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise Conflict(
            _("Subscriber %(contract)s already has attribute %(id)s; change its value instead")
            % {"contract": subscriber.contract_number, "id": attribute_id}
        ) from None
    audit_record(
        actor=actor,
        action="attribute_set",
        obj=record,
        subscriber=subscriber,
        old=None,
        new={"attribute": attribute.pk, "value": text},
    )
    return record


@transaction.atomic
def attribute_value_update(*, attribute_value, value: str, actor: Actor):
    """Change the value of a subscriber's attribute."""
    from asr_billing.subscribers.models import AttributeValue

    locked = AttributeValue.objects.select_for_update().select_related("attribute").get(
        pk=attribute_value.pk
    )
    text = clean_text(value, locked.attribute.name, max_length=1000)
    if text == locked.value:
        return locked
    old = locked.value
    locked.value = text
    locked.save(update_fields=["value"])
    audit_record(
        actor=actor,
        action="attribute_set",
        obj=locked,
        subscriber=locked.subscriber,
        old={"attribute": locked.attribute_id, "value": old},
        new={"attribute": locked.attribute_id, "value": text},
    )
    return locked
