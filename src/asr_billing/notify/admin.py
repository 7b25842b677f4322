"""Admin pages: the message templates (edited, previewed, enabled by an operator) and the
subscribers' notification preferences."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_mixins import adopt_instance
from asr_billing.core.errors import InvalidInput
from asr_billing.notify.broadcast import broadcast_check, broadcast_create
from asr_billing.notify.models import Broadcast, MessageTemplate, Preference
from asr_billing.notify.render import TemplateError, render
from asr_billing.notify.samples import sample_fields


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "channel", "language", "subject", "body", "enabled"]

    def clean(self):
        data = super().clean()
        sample = sample_fields(data.get("event") or "", data.get("language") or "ru")
        for name in ("subject", "body"):
            try:
                render(data.get(name) or "", sample)
            except Exception as exc:  # a syntax error, {% include %} of nothing, a filter
                self.add_error(name, _("Not a valid template: %(error)s") % {"error": exc})
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["event", "channel", "language", "subject", "enabled"]
    list_filter = ["event", "channel", "language", "enabled"]
    readonly_fields = ["fields_help", "preview"]
    fieldsets = [(None, {"fields": ["event", "channel", "language", "enabled", "subject",
                                    "body", "fields_help", "preview"]})]

    @admin.display(description=_("fields"))
    def fields_help(self, obj):
        sample = sample_fields(obj.event if obj else "", "ru")
        return ", ".join("{{ " + name + " }}" for name in sample) or "—"

    @admin.display(description=_("preview (sample subscriber)"))
    def preview(self, obj):
        if obj is None or not obj.pk:
            return _("Save the template to see it with a sample subscriber.")
        fields = sample_fields(obj.event, obj.language)
        try:
            subject = render(obj.subject, fields) if obj.subject else ""
            body = render(obj.body, fields)
        except TemplateError as exc:
            return str(exc)
        return format_html('<div style="white-space:pre-wrap;border:1px solid #ccc;'
                           'padding:8px;max-width:40em"><b>{}</b>\n\n{}</div>', subject, body)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "email_off", "feed_off", "language"]
    list_filter = ["email_off", "feed_off", "language"]
    raw_id_fields = ["subscriber"]
    search_fields = ["subscriber__contract_number", "subscriber__name"]


BROADCAST_FIELDS = ("subscriber", "group", "everyone", "email", "sms", "feed", "subject", "text")


class BroadcastForm(forms.ModelForm):
    class Meta:
        model = Broadcast
        fields = BROADCAST_FIELDS

    def clean(self):
        data = super().clean()
        try:
            broadcast_check(**{name: data.get(name) for name in BROADCAST_FIELDS})
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    """Written once and sent: the page of a message shows what was sent, never edits it."""

    form = BroadcastForm
    list_display = ["id", "created_at", "created_by", "audience", "channels", "asked",
                    "sent_at"]
    raw_id_fields = ["subscriber"]
    readonly_fields = ["created_at", "created_by", "asked", "sent_at"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("to"))
    def audience(self, obj):
        if obj.subscriber_id:
            return str(obj.subscriber)
        return str(obj.group) if obj.group_id else _("everyone")

    @admin.display(description=_("channels"))
    def channels(self, obj):
        names = [(obj.email, _("e-mail")), (obj.sms, _("SMS")), (obj.feed, _("cabinet feed"))]
        return ", ".join(str(label) for wanted, label in names if wanted)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        made = broadcast_create(actor=request.user, **{name: data.get(name)
                                                      for name in BROADCAST_FIELDS})
        adopt_instance(obj, made)
