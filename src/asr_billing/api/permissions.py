"""Scopes: a view names what each of its actions needs (``required_scopes``); reads need
``read`` unless the view says otherwise."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from asr_billing.api.scopes import READ, allows


def needed_scope(view, request) -> str:
    scopes = getattr(view, "required_scopes", {}) or {}
    action = getattr(view, "action", None)
    if action and action in scopes:
        return scopes[action]
    return scopes.get(request.method, scopes.get("read" if request.method in
                                                 ("GET", "HEAD", "OPTIONS") else "write", READ))


class HasScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return False
        needed = needed_scope(view, request)
        if not allows(api_key.scopes, needed):
            self.message = _("This API key lacks the scope %(scope)s") % {"scope": needed}
            self.code = "scope"
            return False
        return True
