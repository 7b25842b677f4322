"""How the subscriber admin saves: every audited change goes through its service.

A subscriber form mixes descriptive data (name, group, connection date, address, comments:
subscriber_update) with state that other parts of the billing depend on, each with its own
service: contacts (subscriber_contacts_update), the tariff now (billing's tariff_change_now, which
records the change for charging and refunds unused prepaid days), a scheduled tariff
(subscriber_tariff_schedule), the credit limit (subscriber_credit_set), the 1C side
(subscriber_sync_1c), attribute values (attribute_value_create/update) and services
(subscriber_service_connect/disconnect).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from asr_billing.billing.services import tariff_change_now
from asr_billing.core.admin_mixins import ServiceRefused, adopt_instance, service_call
from asr_billing.subscribers.models import Subscriber, SubscriberService
from asr_billing.subscribers.services import (
    subscriber_create,
    subscriber_credit_set,
    subscriber_tariff_schedule,
    subscriber_update,
)
from asr_billing.subscribers.services_1c import subscriber_sync_1c
from asr_billing.subscribers.services_profile import (
    attribute_value_create,
    attribute_value_update,
    subscriber_contacts_update,
)
from asr_billing.subscribers.services_uslugi import (
    subscriber_service_connect,
    subscriber_service_disconnect,
)

# Descriptive fields (subscriber_update); charging starts on connected_on.
DETAIL_FIELDS = ("name", "group", "is_company", "connected_on", "address", "comments")
CONTACT_FIELDS = ("sms_phone", "phone", "email", "apartment")


def subscriber_admin_create(request, obj: Subscriber, data: dict) -> None:
    """Create through subscriber_create; ``obj`` (the admin's unsaved instance) becomes
    the created row so the add view continues with it."""
    created = service_call(
        subscriber_create,
        name=data["name"],
        group=data["group"],
        actor=request.user,
        tariff=data.get("tariff"),
        contract_number=data.get("contract_number") or None,
        is_company=data.get("is_company", False),
        email=data.get("email", ""),
        sms_phone=data.get("sms_phone", ""),
        phone=data.get("phone", ""),
        address=data.get("address", ""),
        code1c=data.get("code1c", ""),
        credit_limit=data["credit_limit"],
        connected_on=data.get("connected_on"),
    )
    if data.get("apartment"):
        created = service_call(subscriber_contacts_update, subscriber=created,
                               actor=request.user, apartment=data["apartment"])
    if data.get("comments"):
        created = service_call(subscriber_update, subscriber=created, actor=request.user,
                               comments=data["comments"])
    adopt_instance(obj, created)


def subscriber_admin_update(request, obj: Subscriber, form) -> None:
    data, changed = form.cleaned_data, set(form.changed_data)
    actor = request.user
    details = {name: data.get(name) for name in DETAIL_FIELDS if name in changed}
    if details:
        service_call(subscriber_update, subscriber=obj, actor=actor, **details)
    contacts = {name: data.get(name, "") for name in CONTACT_FIELDS if name in changed}
    if contacts:
        service_call(subscriber_contacts_update, subscriber=obj, actor=actor, **contacts)
    if "tariff" in changed:
        service_call(tariff_change_now, subscriber=obj, tariff=data.get("tariff"), actor=actor)
    if {"tariff_next", "tariff_next_date"} & changed:
        service_call(subscriber_tariff_schedule, subscriber=obj, tariff=data.get("tariff_next"),
                     on=data.get("tariff_next_date"), actor=actor)
    if "credit_limit" in changed:
        service_call(subscriber_credit_set, subscriber=obj, credit_limit=data["credit_limit"],
                     actor=actor)
    if {"code1c", "synced_1c"} & changed:
        service_call(subscriber_sync_1c, subscriber=obj, actor=actor,
                     synced=data.get("synced_1c", False), code1c=data.get("code1c", ""))


def attribute_values_save(request, formset) -> None:
    """Save the attribute inline through the attribute services (audited). Fills the
    formset's new/changed/deleted lists as Django's own save would, for the history."""
    subscriber = formset.instance
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        if not form.has_changed() or form in formset.deleted_forms:
            continue
        data = form.cleaned_data
        if form.instance.pk is None:
            created = service_call(attribute_value_create, subscriber=subscriber,
                                   attribute_id=data["attribute"].pk,
                                   value=data.get("value", ""), actor=request.user)
            formset.new_objects.append(created)
            continue
        if "attribute" in form.changed_data:
            raise ServiceRefused(
                _("The kind of an existing attribute value cannot be changed; add a new value.")
            )
        updated = service_call(attribute_value_update, attribute_value=form.instance,
                               value=data.get("value", ""), actor=request.user)
        formset.changed_objects.append((updated, form.changed_data))


def subscriber_services_save(request, formset) -> None:
    """Save the services inline through the connect/disconnect services (locked, audited).
    A new row connects from its "connected on" day; a disconnection date D on a saved row
    disconnects it after the day before D (the service runs through that day)."""
    subscriber = formset.instance
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        if not form.has_changed() or form in formset.deleted_forms:
            continue
        data, changed = form.cleaned_data, form.changed_data
        if form.instance.pk is None:
            link = service_call(subscriber_service_connect, subscriber=subscriber,
                                service=data["service"], actor=request.user,
                                on=data.get("enabled_on"))
            formset.new_objects.append(link)
        else:
            link = form.instance
            end = data.get("disabled_on")
            if "disabled_on" in changed and end is not None:
                link = service_call(subscriber_service_disconnect, link=link,
                                    actor=request.user, on=end - timedelta(days=1))
            formset.changed_objects.append((link, changed))
        if "comment" in changed:
            # Free text, not part of what the billing charges by.
            SubscriberService.objects.filter(pk=link.pk).update(comment=data.get("comment", ""))
            link.comment = data.get("comment", "")
