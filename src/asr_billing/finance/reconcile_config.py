"""Which payment operator and registry layout a gateway instance's name stands for.

A gateway instance is ``<type>.<name>`` (``sberbank.demo``), configured by
``payments['<type>.<name>.<setting>']`` in cfg/config (gateways/config.py reads them;
core/config_schema.py checks them when the file is read, so the values here are valid).
A reconciliation needs three things of it: ``operator`` (the payment operator's code),
``account`` (what the registry's account field holds: contract, login, ip or id) and the
``registry.*`` settings. The instance need not be enabled: a payment system that no
longer posts online still sends its last registries.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.config_schema import payment_settings, registry_delimiter, registry_format
from asr_billing.core.errors import NotFound
from asr_billing.finance.reconcile import RegistrySource
from asr_billing.finance.reconcile_registry import RegistrySettings
from asr_billing.gateways.config import instance, instances


def registry_settings(kind: str, settings: dict[str, str]) -> RegistrySettings:
    """An instance's registry settings (``settings``: its payment_settings, defaults filled)."""

    def column(name: str) -> int:
        return int(settings[f"registry.column.{name}"])

    return RegistrySettings(
        format=registry_format(kind, settings["registry.format"]),
        encoding=settings["registry.encoding"],
        delimiter=registry_delimiter(settings["registry.delimiter"]),
        skip_rows=int(settings["registry.skip_rows"]),
        txn_id_column=column("txn_id"),
        account_column=column("account"),
        amount_column=column("amount"),
        date_column=column("date"),
        time_column=column("time"),
        fee_column=column("fee"),
        date_format=settings["registry.date_format"],
        time_format=settings["registry.time_format"],
    )


def reconcilable_gateways(snapshot=None) -> list[str]:
    """``<type>.<name>`` of every instance with a payment operator, enabled or not."""
    snapshot = snapshot or runtime.current()
    return sorted(found.key for found in instances(snapshot).values() if found.operator)


def registry_source(gateway: str, snapshot=None) -> RegistrySource:
    """The reconciliation source named ``<type>.<name>`` in the config in force. NotFound
    (naming the instances there are) when no such instance has a payment operator."""
    snapshot = snapshot or runtime.current()
    kind, _dot, name = (gateway or "").partition(".")
    found = instance(snapshot, kind, name)
    if found is None or not found.operator:
        raise NotFound(
            _("No gateway %(name)s with a payment operator in cfg/config "
              "(payments['<type>.<name>.operator']); configured: %(known)s")
            % {"name": gateway, "known": ", ".join(reconcilable_gateways(snapshot)) or "—"},
            code="unknown_gateway",
        )
    settings = payment_settings(snapshot.config.values())[(kind, name)]
    return RegistrySource(
        gateway=found.key,
        operator_code=found.operator,
        account_kind=found.account,
        settings=registry_settings(kind, settings),
    )
