"""The cabinet's Profile page: the login's password (the current one first — counted as a
login attempt, as web_cabinet's check_pass counts it) and the phone for SMS notices. Both
through cabinet_profile_update, the service of web_cabinet.set_user_info: the same checks
(Carbon's password rule and phone texts, said on the form), a new password ends the login's
other sessions. The e-mail address changes in two steps (cabinet.email_change): the new
address gets a code, and only the code entered here makes it the subscriber's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.cabinet.email_change import (
    email_change_confirm,
    email_change_open,
    email_change_request,
)
from asr_billing.cabinet.services import (
    AuthFailure,
    cabinet_password_check,
    cabinet_profile_update,
)
from asr_billing.cabinet.web.auth import cabinet_page, client_address
from asr_billing.cabinet.web.words import in_words
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


class EmailForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("New e-mail"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                            error_messages={"required": gettext_lazy(
                                "Enter the new e-mail address.")})


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code from the e-mail"), max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "autocapitalize": "characters"}),
                           error_messages={"required": gettext_lazy("Enter the code.")})


def _email_step(request, which: str | None, email_form, code_form) -> bool:
    """The e-mail forms; True when done (redirect)."""
    login = request.cabinet.login
    if which == "email" and email_form.is_valid():
        try:
            change = email_change_request(login=login, new_email=email_form.cleaned_data["email"])
        except ApplicationError as exc:
            email_form.add_error("email", in_words(exc))
        else:
            messages.success(request, _("A code is sent to %(email)s. Enter it below.")
                             % {"email": change.new_email})
            return True
    elif which == "code" and code_form.is_valid():
        try:
            change = email_change_confirm(login=login, code=code_form.cleaned_data["code"])
        except ApplicationError as exc:
            code_form.add_error("code", in_words(exc))
        else:
            messages.success(request, _("Your e-mail is now %(email)s.")
                             % {"email": change.new_email})
            return True
    return False


@cabinet_page
def profile(request):
    session = request.cabinet
    subscriber = session.login.subscriber
    which = request.POST.get("form") if request.method == "POST" else None
    password_form = PasswordForm(request.POST if which == "password" else None)
    phone_form = PhoneForm(request.POST if which == "phone" else None,
                           initial={"phone": subscriber.sms_phone})
    email_form = EmailForm(request.POST if which == "email" else None)
    code_form = CodeForm(request.POST if which == "code" else None)
    status = 400 if which else 200
    if which in ("email", "code"):
        if _email_step(request, which, email_form, code_form):
            return redirect("cabinet:profile")
    elif which == "password" and password_form.is_valid():
        data = password_form.cleaned_data
        try:
            right = cabinet_password_check(login=session.login, password=data["current"],
                                           source_ip=client_address(request))
        except AuthFailure as exc:
            password_form.add_error("current", in_words(exc))
        else:
            if not right:
                password_form.add_error("current", _("This is not your current password."))
            else:
                try:
                    cabinet_profile_update(session=session, password=data["new"])
                except ApplicationError as exc:
                    password_form.add_error("new", in_words(exc))
                else:
                    messages.success(request, _("The password is changed. Your other "
                                                "sessions are ended."))
                    return redirect("cabinet:profile")
    elif which == "phone" and phone_form.is_valid():
        try:
            cabinet_profile_update(session=session, sms=phone_form.cleaned_data["phone"])
        except ApplicationError as exc:
            phone_form.add_error("phone", in_words(exc))
        else:
            messages.success(request, _("The phone is saved."))
            return redirect("cabinet:profile")
    return render(request, "cabinet/profile.html", {
        "nav": "profile", "subscriber": subscriber, "password_form": password_form,
        "login": request.cabinet.login,
        "phone_form": phone_form, "email_form": email_form, "code_form": code_form,
        "pending_email": email_change_open(session.login_id),
    }, status=status)
