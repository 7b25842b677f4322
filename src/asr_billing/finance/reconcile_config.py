"""Which payment operator and registry layout a gateway instance's name stands for.

A gateway instance is ``<type>.<name>`` (``sberbank.demo``) and its settings are
``payments['<type>.<name>.<setting>']`` in cfg/config (docs/configuration.md). A
reconciliation reads three of them: ``operator`` (the payment operator's code), ``account``
(what the registry's account field holds: contract, login, ip or id) and the
``registry.*`` settings below. The gateway need not be enabled: a closed terminal network
still sends its last registries.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.errors import InvalidInput, NotFound
from asr_billing.finance.reconcile import RegistrySource
from asr_billing.finance.reconcile_registry import ENCODINGS, FORMATS, RegistrySettings
from asr_billing.finance.reconcile_selectors import ACCOUNT_KINDS

GATEWAY_KEY = re.compile(r"(?P<type>[a-z][a-z0-9_]*)\.(?P<name>[a-z0-9][a-z0-9_-]{0,31})")
COLUMNS = ("txn_id", "account", "amount", "date", "time", "fee")
MAX_COLUMN = 200
_DATE_DIRECTIVES = re.compile(r"%[dmYyHMS%]")


def registry_defaults(kind: str) -> dict[str, str]:
    """The registry settings of a ``kind`` gateway nobody set (sberbank instances read
    Sberbank's layout, all others a CSV)."""
    base = RegistrySettings()
    return {
        "registry.format": "sberbank" if kind == "sberbank" else "csv",
        "registry.encoding": base.encoding,
        "registry.delimiter": base.delimiter,
        "registry.skip_rows": str(base.skip_rows),
        **{f"registry.column.{c}": str(base.columns[c]) for c in COLUMNS},
        "registry.date_format": base.date_format,
        "registry.time_format": base.time_format,
    }


def check_format(value: str) -> None:
    if value not in FORMATS:
        raise ValueError(f"must be one of {', '.join(FORMATS)}, not {value!r}")


def check_encoding(value: str) -> None:
    if value not in ENCODINGS:
        raise ValueError(f"must be one of {', '.join(ENCODINGS)}, not {value!r}")


def delimiter(value: str) -> str:
    """``tab`` or one printable character other than a quote, a letter or a digit."""
    if value == "tab":
        return "\t"
    if len(value) != 1 or value == '"' or value.isalnum() or not value.isprintable():
        raise ValueError(f"must be one character (not a letter, digit or quote) or tab, "
                         f"not {value!r}")
    return value


def check_delimiter(value: str) -> None:
    delimiter(value)


def check_skip_rows(value: str) -> None:
    if not value.isascii() or not value.isdigit() or int(value) > 100:
        raise ValueError(f"must be a whole number from 0 to 100, not {value!r}")


def check_column(value: str) -> None:
    if not value.isascii() or not value.isdigit() or int(value) > MAX_COLUMN:
        raise ValueError(f"must be a column number from 1 to {MAX_COLUMN} (0: none), "
                         f"not {value!r}")


def check_date_format(value: str) -> None:
    """strptime directives %d %m %Y %y %H %M %S only, and a whole date."""
    rest = _DATE_DIRECTIVES.sub("", value)
    if "%" in rest or not all(d in value for d in ("%d", "%m")) or not (
        "%Y" in value or "%y" in value
    ):
        raise ValueError(f"must hold %d, %m and %Y (or %y), and only the directives "
                         f"%d %m %Y %y %H %M %S, not {value!r}")


def check_time_format(value: str) -> None:
    rest = _DATE_DIRECTIVES.sub("", value)
    if "%" in rest or "%H" not in value or "%M" not in value:
        raise ValueError(f"must hold %H and %M, and only the directives %H %M %S, "
                         f"not {value!r}")


VALIDATORS = {
    "registry.format": check_format,
    "registry.encoding": check_encoding,
    "registry.delimiter": check_delimiter,
    "registry.skip_rows": check_skip_rows,
    **{f"registry.column.{c}": check_column for c in COLUMNS},
    "registry.date_format": check_date_format,
    "registry.time_format": check_time_format,
}


def _setting(values: dict, gateway: str, setting: str, default: str) -> str:
    return values.get(("payments", f"{gateway}.{setting}"), default)


def registry_settings(gateway: str, kind: str, values: dict) -> RegistrySettings:
    """The RegistrySettings of instance ``gateway`` from config ``values`` ((section,
    key) -> value); InvalidInput names the key of a bad value."""
    given = {}
    for setting, default in registry_defaults(kind).items():
        value = _setting(values, gateway, setting, default).strip()
        try:
            VALIDATORS[setting](value)
        except ValueError as exc:
            raise InvalidInput(f"payments['{gateway}.{setting}']: {exc}") from None
        given[setting] = value
    columns = {c: int(given[f"registry.column.{c}"]) for c in COLUMNS}
    if given["registry.format"] == "csv":
        for required in ("txn_id", "account", "amount", "date"):
            if columns[required] == 0:
                raise InvalidInput(
                    f"payments['{gateway}.registry.column.{required}']: "
                    "a CSV registry needs this column"
                )
        used = [n for n in columns.values() if n]
        if len(used) != len(set(used)):
            raise InvalidInput(
                f"payments['{gateway}.registry.column.*']: two settings name one column"
            )
    return RegistrySettings(
        format=given["registry.format"],
        encoding=given["registry.encoding"],
        delimiter=delimiter(given["registry.delimiter"]),
        skip_rows=int(given["registry.skip_rows"]),
        txn_id_column=columns["txn_id"],
        account_column=columns["account"],
        amount_column=columns["amount"],
        date_column=columns["date"],
        time_column=columns["time"],
        fee_column=columns["fee"],
        date_format=given["registry.date_format"],
        time_format=given["registry.time_format"],
    )


def configured_gateways(values: dict | None = None) -> list[str]:
    """``<type>.<name>`` of every instance with an operator in the payments section."""
    if values is None:
        values = runtime.current().config.values()
    found = set()
    for section, key in values:
        if section == "payments" and key.endswith(".operator"):
            match = GATEWAY_KEY.fullmatch(key[: -len(".operator")])
            if match and values[(section, key)].strip():
                found.add(match.group(0))
    return sorted(found)


def registry_source(gateway: str, values: dict | None = None) -> RegistrySource:
    """The reconciliation source named ``<type>.<name>`` in the config in force (or in
    ``values``). NotFound when no such instance has an operator."""
    if values is None:
        values = runtime.current().config.values()
    match = GATEWAY_KEY.fullmatch(gateway or "")
    operator = _setting(values, gateway, "operator", "").strip() if match else ""
    if not operator:
        known = ", ".join(configured_gateways(values)) or _("none")
        raise NotFound(
            _("No gateway %(name)s with a payment operator in cfg/config "
              "(payments['<type>.<name>.operator']); configured: %(known)s")
            % {"name": gateway, "known": known},
            code="unknown_gateway",
        )
    account = _setting(values, gateway, "account", "contract").strip()
    if account not in ACCOUNT_KINDS:
        raise InvalidInput(
            f"payments['{gateway}.account']: must be one of {', '.join(ACCOUNT_KINDS)}, "
            f"not {account!r}"
        )
    return RegistrySource(
        gateway=gateway,
        operator_code=operator,
        account_kind=account,
        settings=registry_settings(gateway, match["type"], values),
    )
