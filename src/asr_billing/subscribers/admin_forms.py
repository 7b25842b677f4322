"""Admin forms for subscribers and groups.

The credit limit lives on the account, so it is an extra form field here and the admin
writes it through subscriber_credit_set (audited). Checks that the database would make
with a generic "constraint violated" text are made here first with a clear message.
"""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from asr_billing.core.money import DECIMAL_PLACES, MAX_DIGITS, ZERO
from asr_billing.subscribers.models import Group, Subscriber, SubscriberService
from asr_billing.subscribers.selectors import group_descendant_ids


def credit_limit_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=capfirst(_("credit limit")),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        min_value=ZERO,
        initial=ZERO,
        help_text=_("How far below zero the subscriber may go before being cut off."),
    )


class SubscriberFormBase(forms.ModelForm):
    credit_limit = credit_limit_field()

    def clean_code1c(self):
        code = (self.cleaned_data.get("code1c") or "").strip()
        if code and Subscriber.objects.filter(code1c=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("1C code %(c)s is taken") % {"c": code})
        return code

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError(_("Name is required"))
        return name


class SubscriberAddForm(SubscriberFormBase):
    """Creation goes through subscriber_create; a blank contract number is generated."""

    class Meta:
        model = Subscriber
        fields = (
            "contract_number", "name", "group", "is_company", "connected_on", "tariff",
            "email", "sms_phone", "phone", "address", "apartment", "code1c", "comments",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        number = self.fields.get("contract_number")
        if number is not None:
            number.required = False
            number.help_text = _("Leave empty to take the next number of the configured pattern.")


class SubscriberChangeForm(SubscriberFormBase):
    class Meta:
        model = Subscriber
        fields = (
            "name", "group", "is_company", "connected_on", "tariff", "tariff_next",
            "tariff_next_date", "email", "sms_phone", "phone", "address", "apartment",
            "code1c", "synced_1c", "comments",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        account = getattr(self.instance, "account", None)
        if account is not None and "credit_limit" in self.fields:
            self.fields["credit_limit"].initial = account.credit_limit

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("tariff_next") and not cleaned.get("tariff_next_date"):
            self.add_error("tariff_next_date", _("Set the date of the tariff change."))
        return cleaned


class SubscriberServiceInlineForm(forms.ModelForm):
    """A new row connects a service (subscriber_service_connect); on a saved row only the
    end can be set, once (subscriber_service_disconnect): the billing has charged by the
    dates already there, so they are history."""

    class Meta:
        model = SubscriberService
        fields = ("service", "enabled_on", "disabled_on", "comment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            fixed = ["service", "enabled_on"]
            if self.instance.disabled_on is not None:
                fixed.append("disabled_on")
            for name in fixed:
                if name in self.fields:
                    self.fields[name].disabled = True
        elif "disabled_on" in self.fields:
            self.fields["disabled_on"].disabled = True  # connect first, then disconnect

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("enabled_on"), cleaned.get("disabled_on")
        if start and end and end < start:
            self.add_error("disabled_on", _("The service is disconnected before it is connected."))
        service = cleaned.get("service")
        subscriber_id = self.instance.subscriber_id
        if service and end is None and subscriber_id:
            open_ones = SubscriberService.objects.filter(
                subscriber_id=subscriber_id, service=service, disabled_on__isnull=True
            ).exclude(pk=self.instance.pk)
            if open_ones.exists():
                self.add_error("service", _("This service is already connected."))
        return cleaned


class SubscriberServiceFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or data.get("disabled_on") is not None:
                continue
            service = data.get("service")
            if service is None:
                continue
            if service.pk in seen:
                form.add_error("service", _("This service is already connected."))
            seen.add(service.pk)


class GroupAdminForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ("name", "parent", "comments")

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        inside = (
            parent is not None
            and self.instance.pk is not None
            and parent.pk in group_descendant_ids(self.instance.pk)
        )
        if inside:
            raise forms.ValidationError(
                _("A group cannot be placed inside itself or its subgroups.")
            )
        return parent


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=capfirst(_("reason")),
        max_length=255,
        help_text=_("Saved in the audit log and shown on the subscriber's page."),
    )
