"""Admin forms for logins and NAS devices.

Secrets are write-only: a "new password" / "new RADIUS secret" field that is never
rendered back (PasswordInput without render_value); the stored ciphertext is not a form
field at all. The checks call the same helpers as network.services, so a bad value is a
field error with the service's own text.
"""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_mixins import validation_error
from asr_billing.core.errors import ApplicationError
from asr_billing.network.models import Login, Nas
from asr_billing.network.services import LOGIN_RE, check_password, normalize_mac


class LoginAdminForm(forms.ModelForm):
    new_password = forms.CharField(
        label=capfirst(_("new password")),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password. It is stored encrypted and "
                    "never shown."),
    )

    class Meta:
        model = Login
        fields = ("subscriber", "login", "new_password", "enabled", "ip", "mac", "snat_ip",
                  "nas", "comments")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # A new login needs a password (PPPoE cannot work without one).
            self.fields["new_password"].required = True
            self.fields["new_password"].label = capfirst(_("password"))
            self.fields["new_password"].help_text = _("Stored encrypted and never shown.")

    def clean_login(self):
        name = (self.cleaned_data.get("login") or "").strip()
        if not LOGIN_RE.fullmatch(name):
            raise forms.ValidationError(
                _("A login is 1-64 Latin letters, digits and . _ @ + -; got %(login)r")
                % {"login": name}
            )
        return name

    def clean_new_password(self):
        password = self.cleaned_data.get("new_password") or ""
        if not password:
            return ""
        try:
            return check_password(password)
        except ApplicationError as exc:
            raise validation_error(exc) from None

    def clean_mac(self):
        try:
            return normalize_mac(self.cleaned_data.get("mac") or "")
        except ApplicationError as exc:
            raise validation_error(exc) from None

    def clean(self):
        cleaned = super().clean()
        ip = cleaned.get("ip")
        enabled = cleaned.get("enabled", self.instance.enabled)
        if ip and enabled:
            taken = Login.objects.filter(ip=ip, enabled=True).exclude(pk=self.instance.pk)
            if taken.exists():
                # Said here with the service's words; the field error also keeps the
                # model's generic constraint message from being added twice.
                self.add_error(
                    "ip",
                    _("IP address %(ip)s belongs to another enabled login") % {"ip": ip},
                )
        return cleaned


class NasAdminForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=capfirst(_("new RADIUS secret")),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current secret. It is stored encrypted and "
                    "never shown."),
    )

    class Meta:
        model = Nas
        fields = ("name", "ip", "nas_type", "new_secret", "coa_port", "ipoe_match",
                  "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["new_secret"].label = capfirst(_("RADIUS secret"))
            self.fields["new_secret"].help_text = _("Stored encrypted and never shown.")

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError(_("The NAS needs a name"))
        return name
