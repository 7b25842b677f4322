"""A gateway instance's registry settings in cfg/config: checked when the file is read
(the line is named), defaults by type, and the source a reconciliation gets."""

from __future__ import annotations

import pytest

from asr_billing.core.config import ConfigError, ConfigFile
from asr_billing.core.errors import NotFound
from asr_billing.core.home_init import render_config
from asr_billing.core.runtime import Snapshot
from asr_billing.finance.reconcile import RegistrySource
from asr_billing.finance.reconcile_config import reconcilable_gateways, registry_source
from asr_billing.finance.reconcile_registry import RegistrySettings

pytestmark = pytest.mark.usefixtures("english")


def snapshot(text: str) -> Snapshot:
    return Snapshot(ConfigFile.parse(text, "cfg/config"))


def test_the_demo_sberbank_instance_reads_sberbank_registries():
    assert registry_source("sberbank.demo", snapshot(render_config(demo=True))) == (
        RegistrySource(gateway="sberbank.demo", operator_code="SBERBANK_DEMO",
                       account_kind="contract", settings=RegistrySettings(format="sberbank")))


def test_other_types_read_csv_by_default_and_every_setting_applies():
    text = (
        "payments['osmp.qiwi.operator']='QIWI'\n"
        "payments['osmp.qiwi.account']='login'\n"
        "payments['osmp.qiwi.registry.delimiter']='tab'\n"
        "payments['osmp.qiwi.registry.encoding']='utf-8'\n"
        "payments['osmp.qiwi.registry.skip_rows']='2'\n"
        "payments['osmp.qiwi.registry.column.txn_id']='5'\n"
        "payments['osmp.qiwi.registry.column.account']='6'\n"
        "payments['osmp.qiwi.registry.column.amount']='7'\n"
        "payments['osmp.qiwi.registry.column.date']='8'\n"
        "payments['osmp.qiwi.registry.column.time']='9'\n"
        "payments['osmp.qiwi.registry.column.fee']='10'\n"
        "payments['osmp.qiwi.registry.date_format']='%Y%m%d'\n"
        "payments['osmp.qiwi.registry.time_format']='%H%M%S'\n"
    )
    assert registry_source("osmp.qiwi", snapshot(text)) == RegistrySource(
        gateway="osmp.qiwi", operator_code="QIWI", account_kind="login",
        settings=RegistrySettings(
            format="csv", encoding="utf-8", delimiter="\t", skip_rows=2, txn_id_column=5,
            account_column=6, amount_column=7, date_column=8, time_column=9, fee_column=10,
            date_format="%Y%m%d", time_format="%H%M%S"))


def test_a_disabled_instance_with_an_operator_can_be_reconciled_one_without_cannot():
    text = "payments['osmp.old.operator']='QIWI'\npayments['osmp.none.account']='id'\n"
    assert registry_source("osmp.old", snapshot(text)).operator_code == "QIWI"
    assert reconcilable_gateways(snapshot(text)) == ["osmp.old"]
    for name in ("osmp.none", "osmp", "", "paypal.x", "osmp.old.x"):
        with pytest.raises(NotFound) as caught:
            registry_source(name, snapshot(text))
        assert caught.value.message == (
            f"No gateway {name} with a payment operator in cfg/config "
            "(payments['<type>.<name>.operator']); configured: osmp.old")


@pytest.mark.parametrize(("line", "message"), [
    ("payments['osmp.q.registry.format']='xml'", "must be one of auto, sberbank, csv, not 'xml'"),
    ("payments['osmp.q.registry.encoding']='koi8-r'",
     "must be one of auto, utf-8, cp1251, not 'koi8-r'"),
    ("payments['osmp.q.registry.delimiter']=',,'",
     "one character other than a letter, a digit or '\"', or tab; not ',,'"),
    ("payments['osmp.q.registry.delimiter']='\"'",
     "one character other than a letter, a digit or '\"', or tab; not '\"'"),
    ("payments['osmp.q.registry.skip_rows']='101'", "must be a whole number from 0 to 100"),
    ("payments['osmp.q.registry.column.fee']='201'",
     "a column number from 1 to 200, or 0 for none; not '201'"),
    ("payments['osmp.q.registry.column.fee']='-1'",
     "a column number from 1 to 200, or 0 for none; not '-1'"),
    ("payments['osmp.q.registry.date_format']='%m/%Y'",
     "a date format with %d, %m and %Y (or %y), and no directives but %d %m %Y %y %H %M %S; "
     "not '%m/%Y'"),
    ("payments['osmp.q.registry.date_format']='%d.%m.%Y %Z'",
     "a date format with %d, %m and %Y (or %y), and no directives but %d %m %Y %y %H %M %S; "
     "not '%d.%m.%Y %Z'"),
    ("payments['osmp.q.registry.time_format']='%d %H:%M'",
     "a time format with %H and %M, and no directives but %H %M %S; not '%d %H:%M'"),
    ("payments['osmp.q.registry.colum.fee']='1'",
     "osmp gateways have no setting 'registry.colum.fee'; they have registry.format, "
     "registry.encoding, registry.delimiter, registry.skip_rows, registry.column.txn_id, "
     "registry.column.account, registry.column.amount, registry.column.date, "
     "registry.column.time, registry.column.fee, registry.date_format, registry.time_format"),
    ("payments['osmp.q.registry.column.amount']='0'",
     "a csv registry needs this column"),
])
def test_bad_registry_settings_name_their_line(line, message):
    with pytest.raises(ConfigError) as info:
        ConfigFile.parse("# registry\n" + line + "\n", "cfg/config")
    key = line.split("'")[1]
    assert str(info.value) == f"cfg/config:2: payments['{key}']: {message}"


def test_a_sberbank_registry_needs_no_columns():
    text = "payments['sberbank.s.registry.column.amount']='0'\n"
    assert ConfigFile.parse(text, "cfg/config").get(
        "payments", "sberbank.s.registry.column.amount") == "0"
