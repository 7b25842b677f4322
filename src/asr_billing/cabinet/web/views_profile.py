"""The cabinet's Profile page: the login's password (the current one first — counted as a
login attempt, as web_cabinet's check_pass counts it) and the phone for SMS notices. Both
through cabinet_profile_update, the service of web_cabinet.set_user_info: the same checks
(Carbon's password rule and phone texts, said on the form), a new password ends the login's
other sessions. The e-mail address is shown; changing it needs a confirmation by code,
which is not built yet (docs/cabinet.md)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.cabinet.services import (
    AuthFailure,
    cabinet_password_check,
    cabinet_profile_update,
)
from asr_billing.cabinet.web.auth import cabinet_page, client_address
from asr_billing.core.errors import ApplicationError


class PasswordForm(forms.Form):
    current = forms.CharField(label=gettext_lazy("Current password"), strip=False,
                              widget=forms.PasswordInput(attrs={
                                  "autocomplete": "current-password"}))
    new = forms.CharField(label=gettext_lazy("New password"), strip=False,
                          widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    repeat = forms.CharField(label=gettext_lazy("The new password again"), strip=False,
                             widget=forms.PasswordInput(attrs={
                                 "autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new") and data.get("repeat") and data["new"] != data["repeat"]:
            self.add_error("repeat", _("The two new passwords differ."))
        return data


class PhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Phone for SMS notices"), required=False,
                            max_length=64, widget=forms.TextInput(attrs={
                                "autocomplete": "tel", "inputmode": "tel"}))


@cabinet_page
def profile(request):
    session = request.cabinet
    subscriber = session.login.subscriber
    which = request.POST.get("form") if request.method == "POST" else None
    password_form = PasswordForm(request.POST if which == "password" else None)
    phone_form = PhoneForm(request.POST if which == "phone" else None,
                           initial={"phone": subscriber.sms_phone})
    status = 400 if which else 200
    if which == "password" and password_form.is_valid():
        data = password_form.cleaned_data
        try:
            right = cabinet_password_check(login=session.login, password=data["current"],
                                           source_ip=client_address(request))
        except AuthFailure as exc:
            password_form.add_error("current", str(exc))
        else:
            if not right:
                password_form.add_error("current", _("This is not your current password."))
            else:
                try:
                    cabinet_profile_update(session=session, password=data["new"])
                except ApplicationError as exc:
                    password_form.add_error("new", str(exc))
                else:
                    messages.success(request, _("The password is changed. Your other "
                                                "sessions are ended."))
                    return redirect("cabinet:profile")
    elif which == "phone" and phone_form.is_valid():
        try:
            cabinet_profile_update(session=session, sms=phone_form.cleaned_data["phone"])
        except ApplicationError as exc:
            phone_form.add_error("phone", str(exc))
        else:
            messages.success(request, _("The phone is saved."))
            return redirect("cabinet:profile")
    return render(request, "cabinet/profile.html", {
        "nav": "profile", "subscriber": subscriber, "password_form": password_form,
        "login": request.cabinet.login,
        "phone_form": phone_form,
    }, status=status)
