"""API keys in the admin: create (the key shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from asr_billing.api.keys import apikey_create, apikey_input_check, apikey_revoke
from asr_billing.api.models import ApiKey
from asr_billing.api.scopes import SCOPE_CHOICES
from asr_billing.core.errors import ApplicationError


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    signed = forms.BooleanField(
        label=_("requests must be signed"), required=False,
        help_text=_("A signing secret is made and shown once; every request needs its HMAC."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "allowed_ips", "rate_per_minute")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            apikey_input_check(name=data.get("name"), scopes=data.get("scopes") or [],
                               allowed_ips=data.get("allowed_ips", ""),
                               rate_per_minute=data.get("rate_per_minute", 600))
        except ApplicationError as exc:
            field = exc.code if exc.code in self.fields else None
            self.add_error(field, exc.message)
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "scopes_text", "allowed_ips", "rate_per_minute",
                    "created_at", "last_used_at", "last_used_ip", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    actions = ("revoke",)
    readonly_fields = ("prefix", "created_at", "actor", "last_used_at", "last_used_ip",
                       "revoked_at", "require_signature")

    @admin.display(description=_("scopes"))
    def scopes_text(self, obj) -> str:
        return ", ".join(obj.scopes)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the audit log and the last use stay

    def save_model(self, request, obj, form, change):
        created = apikey_create(
            name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
            allowed_ips=form.cleaned_data["allowed_ips"],
            rate_per_minute=form.cleaned_data["rate_per_minute"],
            signed=form.cleaned_data["signed"], actor=request.user,
        )
        obj.pk = created.api_key.pk
        obj.refresh_from_db()
        text = _("The key (shown once, copy it now): %(key)s") % {"key": created.key}
        if created.signing_secret:
            text += " — " + _("signing secret (shown once): %(s)s") % {
                "s": created.signing_secret}
        messages.warning(request, text)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        done = sum(apikey_revoke(api_key=key, actor=request.user) for key in queryset)
        self.message_user(request, _("%(n)d keys revoked") % {"n": done})
