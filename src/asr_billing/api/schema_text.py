"""What the OpenAPI schema says of each operation beyond what drf-spectacular infers: a
summary, a description with the scope it needs, and request/response examples."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample

from asr_billing.api.scopes import READ

# Example bodies use the demo's values (BILL0000003, testlogin, operator BANK).
PAYMENT_ANSWER = {
    "id": 67690, "subscriber": 1303, "type": "payment", "type_id": 2, "amount": "500.00",
    "balance_after": "1358.02", "op_date": "2026-12-04T10:15:00+03:00",
    "created_at": "2026-12-04T10:15:00+03:00", "description": "", "actor": "api:k3x9q2mf:CRM",
    "operator": "BANK", "external_id": "bank-20261204-0001", "code1c": "", "tariff": None,
    "service": None, "period_start": None, "period_end": None, "reverses": None,
    "reversed_by": None,
}
EXAMPLES = {
    ("payment", "create"): [
        OpenApiExample("A bank payment", request_only=True, value={
            "subscriber": "BILL0000003", "amount": "500.00", "operator": "BANK",
            "external_id": "bank-20261204-0001"}),
        OpenApiExample("Posted (201), or the first one again for a retry (200)",
                       response_only=True, value=PAYMENT_ANSWER),
    ],
    ("subscriber", "create"): [
        OpenApiExample("A new subscriber", request_only=True, value={
            "name": "Петров Пётр Петрович", "group": 1222, "tariff": 2,
            "email": "petrov@example.org", "sms_phone": "79031234567",
            "address": "г. Новореченск, ул. Мира, д. 1"}),
    ],
    ("subscriber", "partial_update"): [
        OpenApiExample("Change the address", request_only=True,
                       value={"address": "г. Новореченск, ул. Мира, д. 3", "comments": "moved"}),
    ],
    ("subscriber", "block"): [
        OpenApiExample("Block", request_only=True, value={"reason": "contract ended"}),
    ],
    ("subscriber", "credit"): [
        OpenApiExample("Credit", request_only=True, value={"credit_limit": "300.00"}),
    ],
    ("subscriber", "tariff"): [
        OpenApiExample("From the 1st", request_only=True, value={"tariff": 3, "on": "2027-01-01"}),
        OpenApiExample("Cancel the scheduled change", request_only=True, value={"tariff": None}),
    ],
    ("login", "create"): [
        OpenApiExample("A PPPoE login", request_only=True, value={
            "subscriber": 1303, "login": "petrov", "password": "Str0ng-pass",
            "ip": "10.20.30.99", "nas": 1}),
    ],
    ("login", "partial_update"): [
        OpenApiExample("A new password", request_only=True, value={"password": "An0ther-pass"}),
    ],
    ("operation", "reverse"): [
        OpenApiExample("Reverse", request_only=True, value={"description": "posted twice"}),
    ],
    ("billing-run", "create"): [
        OpenApiExample("Up to today", request_only=True, value={}),
        OpenApiExample("Queued", response_only=True, value={"status": "queued", "date": None}),
    ],
    ("group", "create"): [
        OpenApiExample("A folder", request_only=True, value={"name": "Заречный", "parent": 1222}),
    ],
    ("group", "partial_update"): [
        OpenApiExample("Rename", request_only=True, value={"name": "пос. Заречный"}),
    ],
    ("subscription", "create"): [
        OpenApiExample("Connect TV from the 1st", request_only=True,
                       value={"subscriber": 1303, "service": 2, "on": "2027-01-01"}),
    ],
    ("subscription", "disconnect"): [
        OpenApiExample("Today is the last day", request_only=True, value={}),
    ],
    ("tariff", "create"): [
        OpenApiExample("A monthly tariff", request_only=True, value={
            "name": "Домашний 200", "fee": "750.00", "charge_method": "monthly",
            "rate_in": 204800, "ceil_in": 204800, "rate_out": 102400, "ceil_out": 102400,
            "web_line": "Домашние"}),
    ],
    ("tariff", "partial_update"): [
        OpenApiExample("A new fee", request_only=True, value={"fee": "790.00"}),
    ],
    ("service", "create"): [
        OpenApiExample("A static IP", request_only=True, value={
            "name": "Статический IP", "fee": "150.00", "charge_method": "monthly"}),
    ],
    ("service", "partial_update"): [
        OpenApiExample("Not offered any more", request_only=True, value={"is_active": False}),
    ],
    ("nas", "create"): [
        OpenApiExample("A MikroTik", request_only=True, value={
            "name": "BRAS-2", "ip": "10.0.0.2", "nas_type": "mikrotik",
            "radius_secret": "s3cret-2", "coa_port": 3799}),
    ],
    ("nas", "partial_update"): [
        OpenApiExample("A new secret", request_only=True, value={"radius_secret": "n3w-s3cret"}),
    ],
    ("promised-payment", "create"): [
        OpenApiExample("On the tariff's terms", request_only=True, value={"subscriber": 1303}),
    ],
    ("voluntary-block", "create"): [
        OpenApiExample("Two weeks", request_only=True, value={
            "subscriber": 1303, "start_date": "2027-01-10", "end_date": "2027-01-24"}),
    ],
}

SUMMARIES = {"list": "List {plural}", "retrieve": "One {name}", "create": "Create a {name}",
             "partial_update": "Change a {name}"}


def _words(basename: str) -> tuple[str, str]:
    name = basename.replace("-", " ")
    if name in ("nas", "audit"):
        return name, name
    return name, name + "s"


class ApiAutoSchema(AutoSchema):
    def get_summary(self):
        basename = getattr(self.view, "basename", None)
        action = getattr(self.view, "action", None)
        if not basename or not action:
            return None
        name, plural = _words(basename)
        text = SUMMARIES.get(action)
        if text is None:
            return action.replace("_", " ").capitalize() + f" ({name})"
        return text.format(name=name, plural=plural)

    def get_description(self):
        from asr_billing.api.permissions import needed_scope

        text = super().get_description() or ""
        action = getattr(self.view, "action", None)
        if not text:
            name, plural = _words(getattr(self.view, "basename", "") or "row")
            if action == "list":
                text = (f"The {plural}, a page at a time in a stable order (`limit`, `cursor`; "
                        "`next` and `previous` are the other pages); the filters and "
                        "`ordering` values below.")
            elif action == "retrieve":
                text = f"One {name} by its id; 404 when there is none."
        request = type("R", (), {"method": self.method})()
        scope = needed_scope(self.view, request) or READ
        return f"{text}\n\nScope: `{scope}` (or `admin`).".strip()

    def get_examples(self):
        key = (getattr(self.view, "basename", None), getattr(self.view, "action", None))
        return EXAMPLES.get(key, [])
