"""Reference rows every installation needs: attribute kinds with Carbon's ids, the root
group, the operator roles (core/roles.py) and the notification templates (disabled)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.core.roles import roles_ensure
from asr_billing.notify.defaults import templates_ensure
from asr_billing.subscribers.models import Attribute, Group

# Ids are Carbon's where 1C reads them by id (api_1c_get_abonent_attr): 4 INN, 5 KPP,
# 25 legal address, 26 actual address. 1012 is the Telegram id a public REST v2 script writes.
ATTRIBUTES = [
    (4, "inn", "ИНН"),
    (5, "kpp", "КПП"),
    (25, "legal_address", "Юридический адрес"),
    (26, "actual_address", "Фактический адрес"),
    (1012, "telegram_id", "Telegram ID"),
]
ROOT_GROUP = "Абоненты"


class Command(BaseCommand):
    @property
    def help(self):
        return _("Create the reference rows (attribute kinds, the root group, operator roles).")

    @transaction.atomic
    def handle(self, *args, **options):
        for pk, code, name in ATTRIBUTES:
            Attribute.objects.get_or_create(pk=pk, defaults={"code": code, "name": name})
        if not Group.objects.filter(parent__isnull=True).exists():
            Group.objects.create(name=ROOT_GROUP)
        roles_ensure()
        templates_ensure()
