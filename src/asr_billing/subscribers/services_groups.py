"""Groups of subscribers (a folder tree): create and change, audited. A group is never
deleted here: subscribers and child groups hold it (PROTECT)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.subscribers.models import Group
from asr_billing.subscribers.service_common import clean_text

NAME_MAX = Group._meta.get_field("name").max_length


def _state(group: Group) -> dict:
    return {"name": group.name, "parent": group.parent_id, "comments": group.comments}


def _check_parent(group: Group, parent: Group | None) -> None:
    """A parent must exist and must not be the group itself or one of its descendants."""
    seen = set()
    node = parent
    while node is not None:
        if group.pk is not None and node.pk == group.pk:
            raise InvalidInput(_("A group cannot be inside itself"), code="parent")
        if node.pk in seen:  # pragma: no cover - a loop made outside the services
            break
        seen.add(node.pk)
        node = node.parent


def _save(group: Group) -> None:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise Conflict(
            _("A group named %(name)s exists in this folder already") % {"name": group.name}
        ) from None


@transaction.atomic
def group_create(*, name: str, actor: Actor, parent: Group | None = None,
                 comments: str = "") -> Group:
    group = Group(name=clean_text(name, _("Name"), required=True, max_length=NAME_MAX),
                  parent=parent, comments=comments or "")
    _check_parent(group, parent)
    _save(group)
    audit_record(actor=actor, action="group_create", obj=group, new=_state(group))
    return group


@transaction.atomic
def group_update(*, group: Group, actor: Actor, name=..., parent=..., comments=...) -> Group:
    """Change a group; arguments left out stay as they are."""
    locked = Group.objects.select_for_update().get(pk=group.pk)
    old = _state(locked)
    if name is not ...:
        locked.name = clean_text(name, _("Name"), required=True, max_length=NAME_MAX)
    if parent is not ...:
        _check_parent(locked, parent)
        locked.parent = parent
    if comments is not ...:
        locked.comments = comments or ""
    new = _state(locked)
    if new != old:
        _save(locked)
        audit_record(actor=actor, action="group_update", obj=locked, old=old, new=new)
    return locked
