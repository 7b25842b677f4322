"""Building blocks shared by the operators' admin of every app.

Two rules shape them: writes go through services (so a service's refusal must come back
as a form error, never as a 500), and records that are history (ledger, audit log,
sessions) are never edited from the admin, not even by a superuser.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.html import format_html

from asr_billing.core.errors import ApplicationError


class ServiceRefused(Exception):
    """Raised from ``save_model`` when a service refused the write (the message is
    user-facing). ServiceFormAdminMixin turns it into a form error."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def service_call(func, /, **kwargs):
    """Call a service from ``save_model``; its ApplicationError becomes ServiceRefused."""
    try:
        return func(**kwargs)
    except ApplicationError as exc:
        raise ServiceRefused(exc.message) from exc


def validation_error(exc: ApplicationError) -> ValidationError:
    return ValidationError(exc.message, code=exc.code)


class ServiceFormAdminMixin:
    """Show a service's refusal in ``save_model`` as a non-field error of the form.

    Field checks mirror the services in the forms' ``clean_*`` methods, so a refusal here
    is rare (a race with another writer). Django's change view runs in a transaction: the
    exception rolls every write of the request back, then the view runs again with the same
    POST data and a form that carries the message, so the operator sees what was typed.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as exc:
            if getattr(request, "_service_refusal", None) is not None:
                raise  # the rerun must not save again; a second refusal is a bug
            request._service_refusal = exc.message
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        message = getattr(request, "_service_refusal", None)
        if message is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                self.add_error(None, message)
                return cleaned

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm


class ReadOnlyAdminMixin:
    """History is append-only: no add, change or delete, for superusers too.

    Viewing stays (the change page renders read-only); a POST to it is refused with 403
    by Django because has_change_permission is False.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def admin_url(obj, view: str = "change") -> str:
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
    except NoReverseMatch:
        return ""


def admin_link(obj, text=None) -> str:
    """A link to the object's change page (or its text when it has none)."""
    if obj is None:
        return "—"
    label = str(obj) if text is None else text
    url = admin_url(obj)
    return format_html('<a href="{}">{}</a>', url, label) if url else label


def adopt_instance(target, source) -> None:
    """Make the admin's unsaved ``target`` the object a service created (``source``), so
    Django's add view (inlines, log entry, redirect) continues with the saved row."""
    for field in target._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def money_text(value) -> str:
    """Money as the pages show it, for messages too: "754,88" in Russian, "754.88" in
    English (one rule per language)."""
    return number_format(value, 2)


def money_html(value):
    """Money localized with 2 places; negative amounts in red, as operators expect."""
    if value is None:
        return "—"
    text = number_format(value, 2)
    if value < 0:
        return format_html('<span style="color:#ba2121">{}</span>', text)
    return text
