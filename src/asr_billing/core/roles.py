"""Operator roles: Django groups that `asr-billing init` (seed_reference) creates and keeps.

- **Cashier** takes payments and looks subscribers up: it sees subscribers, their logins,
  accounts and ledger, and registers payments; it changes nothing else (no corrections,
  no blocks, no tariffs).
- **Support** looks after subscribers without moving money: it edits subscribers and
  their logins, blocks and unblocks them, handles voluntary blocks, helpdesk tickets and
  locked cabinet logins; it registers no payment, posts no correction, gives no promised
  payment.
- **Administrator** may do everything in the billing, and manage operators (users and
  groups), without being a superuser.

An operator gets a role by being put in the group on the user's admin page. The groups are
found by their names, the same in both languages (a name is data, not a message).
Running seed_reference again puts back the permissions listed here; permissions an
administrator added to a group by hand stay.
"""

from __future__ import annotations

CASHIER = "Cashier / Кассир"
SUPPORT = "Support / Поддержка"
ADMINISTRATOR = "Administrator / Администратор"

_SEE_SUBSCRIBERS = (
    "subscribers.view_subscriber", "subscribers.view_group", "subscribers.view_attributevalue",
    "subscribers.view_subscriberservice", "network.view_login", "network.view_nas",
    "network.view_onlinesession", "tariffs.view_tariff", "tariffs.view_service",
    "finance.view_account", "finance.view_operation", "finance.view_paymentoperator",
    "billing.view_promisedpayment", "billing.view_voluntaryblock",
    "billing.view_tariffchange",
)

ROLES: dict[str, tuple[str, ...]] = {
    CASHIER: (*_SEE_SUBSCRIBERS, "finance.add_operation"),
    SUPPORT: (
        *_SEE_SUBSCRIBERS,
        "subscribers.change_subscriber", "subscribers.add_attributevalue",
        "subscribers.change_attributevalue", "subscribers.delete_attributevalue",
        "network.add_login", "network.change_login",
        "billing.add_voluntaryblock", "billing.change_voluntaryblock",
        "cabinet.view_ticket", "cabinet.change_ticket", "cabinet.view_ticketmessage",
        "cabinet.view_notification", "cabinet.view_cabinetsession",
        "cabinet.view_auththrottle", "cabinet.delete_auththrottle",
        "core.view_auditentry",
    ),
}
# The administrator: every permission of the billing's apps and of operators' accounts.
ADMINISTRATOR_APPS = ("api", "auth", "billing", "cabinet", "core", "finance", "network",
                      "rest_v2", "subscribers", "tariffs")


def roles_ensure() -> dict[str, int]:
    """Create the role groups if missing and give them their permissions; returns the
    number of permissions of each. Idempotent."""
    from django.contrib.auth.models import Group, Permission

    counts = {}
    for name, wanted in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = [_permission(Permission, dotted) for dotted in wanted]
        group.permissions.add(*permissions)
        counts[name] = len(permissions)
    group, _created = Group.objects.get_or_create(name=ADMINISTRATOR)
    everything = Permission.objects.filter(content_type__app_label__in=ADMINISTRATOR_APPS)
    group.permissions.add(*everything)
    counts[ADMINISTRATOR] = everything.count()
    return counts


def _permission(model, dotted: str):
    app_label, codename = dotted.split(".", 1)
    try:
        return model.objects.get(content_type__app_label=app_label, codename=codename)
    except model.DoesNotExist:
        raise LookupError(f"core/roles.py names a permission that does not exist: "
                          f"{dotted}") from None
