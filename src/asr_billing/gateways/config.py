"""Gateway instances from cfg/config's ``payments`` section.

Each instance is ``payments['<type>.<name>.<setting>']`` (core/config_schema.py lists the
settings and their defaults; docs/configuration.md documents them): several instances of
one type coexist under different names, and ``<type>.<name>`` (``osmp.demo``) names one
instance everywhere — in its URL ``/pay/<type>/<name>/``, in the ledger's actor
``gateway:<type>.<name>`` and for a registry reconciliation, which finds the instance
and its payment operator with ``instance(snapshot, type, name)``.

Parsed once per version of the file: the running server re-reads cfg/config when it
changes (core/runtime.py) and the next request sees the new instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from asr_billing.core.config_schema import parse_networks, payment_settings


@dataclass(frozen=True)
class GatewayInstance:
    """One configured gateway. Amounts in roubles."""

    type: str
    name: str
    enabled: bool
    operator: str  # the PaymentOperator code payments are posted under
    allowed_networks: tuple
    account: str  # contract | login | ip | id
    min_sum: Decimal
    max_sum: Decimal
    allow_negative: bool
    allow_blocked: bool
    cancel: bool
    auth_user: str = ""  # osmp, sberbank: HTTP basic auth (empty: none)
    auth_password: str = ""
    dialect: str = "auto"  # sberbank: auto | protocol2 | sberonline
    secret: str = ""  # webhook: the HMAC-SHA256 key
    window_seconds: int = 300  # webhook: allowed distance of the signed timestamp

    @property
    def key(self) -> str:
        """``<type>.<name>``: the instance's name everywhere."""
        return f"{self.type}.{self.name}"

    @property
    def actor(self) -> str:
        """Who the ledger and the audit log say posted a payment."""
        return f"gateway:{self.key}"


def _instance(kind: str, name: str, settings: dict) -> GatewayInstance:
    return GatewayInstance(
        type=kind,
        name=name,
        enabled=settings["enabled"] == "yes",
        operator=settings["operator"].strip(),
        allowed_networks=tuple(parse_networks(settings["allowed_ips"])),
        account=settings["account"],
        min_sum=Decimal(settings["min_sum"]),
        max_sum=Decimal(settings["max_sum"]),
        allow_negative=settings["allow_negative"] == "yes",
        allow_blocked=settings["allow_blocked"] == "yes",
        cancel=settings["cancel"] == "yes",
        auth_user=settings.get("auth.user", ""),
        auth_password=settings.get("auth.password", ""),
        dialect=settings.get("dialect", "auto"),
        secret=settings.get("secret", ""),
        window_seconds=int(settings.get("window_seconds", "300")),
    )


# (the ConfigFile the instances were parsed from, the instances). The runtime keeps one
# ConfigFile object per version of the file, so identity says "same version".
_parsed: tuple[object, dict] = (None, {})


def instances(snapshot) -> dict[tuple[str, str], GatewayInstance]:
    """Every instance named in the config in force, enabled or not: (type, name) -> it."""
    global _parsed
    source, found = _parsed
    if source is not snapshot.config:
        found = {
            (kind, name): _instance(kind, name, settings)
            for (kind, name), settings in payment_settings(snapshot.config.values()).items()
        }
        _parsed = (snapshot.config, found)  # one assignment: safe across threads
    return found


def instance(snapshot, kind: str, name: str) -> GatewayInstance | None:
    """The instance ``<kind>.<name>`` (enabled or not), or None."""
    return instances(snapshot).get((kind, name))
