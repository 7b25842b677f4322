"""Writing the audit log. Call inside the transaction of the change being recorded."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from asr_billing.core.models import AuditEntry

Actor = AbstractBaseUser | str | None


def actor_fields(actor: Actor) -> dict[str, Any]:
    """Split an actor (a staff user or a label such as "system_api:asr_fiscal")."""
    if actor is None:
        return {"actor_user": None, "actor": "system"}
    if isinstance(actor, str):
        return {"actor_user": None, "actor": actor[:100]}
    return {"actor_user": actor, "actor": f"admin:{actor.get_username()}"[:100]}


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    subscriber: Any = None,
    old: dict | None = None,
    new: dict | None = None,
    message: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        **actor_fields(actor),
        action=action,
        subscriber=subscriber,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        old=old,
        new=new,
        message=message,
    )
