"""``asr-billing payments reconcile`` (the payments_reconcile command): the printed
report, the exit codes (0 all match, 3 differs, 2 refused) and the gateway's settings
read from cfg/config."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from asr_billing.finance.models import Operation, Reconciliation
from asr_billing.finance.reconcile_cli import FORMATS as CLI_FORMATS
from asr_billing.finance.reconcile_registry import FORMATS
from tests.conftest import db_state
from tests.finance.reconcile_helpers import full_ledger

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def gateway(config_edit):
    config_edit("payments", "sberbank.reg.operator", "SBER_REG")
    config_edit("payments", "sberbank.reg.account", "contract")
    return "sberbank.reg"


def reconcile(*args, **options) -> tuple[int, list[str], str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("payments_reconcile", *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        return exc.returncode, out.getvalue().splitlines(), str(exc)
    return 0, out.getvalue().splitlines(), ""


def test_the_report_as_printed(make_subscriber, gateway, tmp_path):
    ledger = full_ledger(make_subscriber)
    path = tmp_path / "sber-2024-03-15.txt"
    path.write_bytes(ledger.registry)
    code, out, error = reconcile(gateway=gateway, file=str(path))
    report = Reconciliation.objects.get()
    t3_reversal = Operation.objects.get(reverses__external_id="T3").pk
    assert code == 3
    assert error == f"the registry and the billing differ (lines: 6, report #{report.pk})"
    assert out == [
        f"Reconciliation #{report.pk} of sberbank.reg (operator SBER_REG), registry of "
        "2024-03-15",
        f"File sber-2024-03-15.txt, SHA-256 {report.file_sha256}",
        "Registry: count 6, total 1250.00 (fees 12.50); billing: count 4, total 940.00",
        "  matched                           1",
        "  missing in the billing            2",
        "  missing in the registry           1",
        "  amount or account differs         2",
        "  reversed in the billing           1",
        "Lines that are not plain matches:",
        "  DIFFERS line 3: amount or account differs; transaction T2, account 100002, "
        "registry 350.00, billing 300.00 (contract 100002); amount: registry 350.00, "
        "billing 300.00",
        "  DIFFERS line 4: reversed in the billing; transaction T3, account 100003, "
        f"registry 200.00, billing 200.00 (contract 100003); reversed by operation "
        f"#{t3_reversal}",
        "  DIFFERS line 5: missing in the billing; transaction T5, account 100003, "
        "registry 150.00, billing —",
        "  DIFFERS line 6: amount or account differs; transaction T9, account 100002, "
        "registry 40.00, billing 40.00 (contract 100001); account 100002 is contract "
        "100002; the billing credited contract 100001",
        "  DIFFERS line 7: missing in the billing; transaction T10, account 999999, "
        "registry 10.00, billing —",
        "  DIFFERS not in the registry: missing in the registry; transaction T4, account —, "
        "registry —, billing 100.00 (contract 100001)",
        "Result: 6 lines differ",
    ]



def test_the_report_in_russian_the_default_language(make_subscriber, gateway, tmp_path):
    """Operators run the command with app['language'] = 'ru': the same report in Russian,
    the bank's fee is "комиссия" (not the tariff's "абонентская плата"), plural forms."""
    ledger = full_ledger(make_subscriber)
    path = tmp_path / "sber-2024-03-15.txt"
    path.write_bytes(ledger.registry)
    with translation.override("ru"):
        code, out, _error = reconcile(gateway=gateway, file=str(path))
    report = Reconciliation.objects.get()
    assert code == 3
    assert out[:9] == [
        f"Сверка №{report.pk} по шлюзу sberbank.reg (оператор SBER_REG), реестр за 2024-03-15",
        f"Файл sber-2024-03-15.txt, SHA-256 {report.file_sha256}",
        "Реестр: платежей 6, сумма 1250.00 (комиссия 12.50); биллинг: платежей 4, "
        "сумма 940.00",
        "  совпадает                         1",
        "  нет в биллинге                    2",
        "  нет в реестре                     1",
        "  расходится сумма или счёт         2",
        "  сторнирован в биллинге            1",
        "Строки, кроме полностью совпавших:",
    ]
    assert out[9] == (
        "  РАСХОДИТСЯ строка 3: расходится сумма или счёт; транзакция T2, лицевой счёт "
        "100002, в реестре 350.00, в биллинге 300.00 (договор 100002); сумма: в реестре "
        "350.00, в биллинге 300.00"
    )
    assert out[-1] == "Итог: расходятся 6 строк"

def test_post_missing_then_all_match_exit_zero(make_subscriber, gateway, tmp_path):
    rows = [("T1", "100001", "500.00", "09:00:00"), ("T5", "100003", "150.00", "12:00:00"),
            ("T4", "100001", "100.00", "12:29:00"), ("T9", "100001", "40.00", "13:00:00"),
            ("T2", "100002", "300.00", "10:00:00")]
    ledger = full_ledger(make_subscriber, rows=rows)
    path = tmp_path / "reg.txt"
    path.write_bytes(ledger.registry)
    code, out, error = reconcile(gateway=gateway, file=str(path), post_missing=True)
    t5 = Operation.objects.get(external_id="T5")
    assert (code, error) == (0, "")
    assert out[-4:] == [
        "  posted: count 1, total 150.00",
        "Lines that are not plain matches:",
        "  agrees line 3: missing in the billing; transaction T5, account 100003, registry "
        f"150.00, billing 150.00 (contract 100003); posted as operation #{t5.pk}",
        "Result: everything matches",
    ]
    code, out, error = reconcile(gateway=gateway, file=str(path), post_missing=True)
    assert (code, error) == (0, "")
    assert out[2:] == [
        "Registry: count 5, total 1090.00 (fees 10.90); billing: count 5, total 1090.00",
        "  matched                           5",
        "  missing in the billing            0",
        "  missing in the registry           0",
        "  amount or account differs         0",
        "  reversed in the billing           0",
        "  posted: count 0, total 0.00",
        "Result: everything matches",
    ]
    assert Operation.objects.filter(external_id="T5").count() == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gateway": "sberbank.nope"},
         "reg.txt: No gateway sberbank.nope with a payment operator in cfg/config "
         "(payments['<type>.<name>.operator']); configured: osmp.demo, sberbank.demo, "
         "sberbank.reg, webhook.demo"),
        ({"date": "15.03.2024"}, "--date '15.03.2024' is not a date YYYY-MM-DD"),
        ({"file": "/nonexistent/reg.txt"},
         "cannot read /nonexistent/reg.txt: No such file or directory"),
        ({"data": b"8623;1;1;T1;1e3;0;15/03/2024;09:00:00;CLIENTNO:1\n=1;1000.00;0\n"},
         "reg.txt: Line 1: amount '1e3' is not an amount greater than zero with at most 2 "
         "decimal places"),
        ({"data": b"=0;0.00;0.00\n"},
         "reg.txt: The registry lists no payments, so its date is unknown: give the date"),
    ],
)
def test_refusals_exit_2_and_change_nothing(make_subscriber, gateway, tmp_path, options,
                                            message):
    ledger = full_ledger(make_subscriber)
    path = tmp_path / "reg.txt"
    path.write_bytes(options.pop("data", ledger.registry))
    options = {"gateway": gateway, "file": str(path), "post_missing": True, **options}
    before = db_state()
    code, out, error = reconcile(**options)
    assert (code, out, error) == (2, [], message)
    assert db_state() == before
    assert Reconciliation.objects.count() == 0


def test_csv_settings_come_from_the_config(make_subscriber, config_edit, tmp_path):
    full_ledger(make_subscriber, rows=[])
    for key, value in [
        ("webhook.acq.operator", "SBER_REG"),
        ("webhook.acq.registry.delimiter", "tab"),
        ("webhook.acq.registry.skip_rows", "1"),
        ("webhook.acq.registry.column.txn_id", "2"),
        ("webhook.acq.registry.column.account", "1"),
        ("webhook.acq.registry.column.amount", "4"),
        ("webhook.acq.registry.column.date", "3"),
        ("webhook.acq.registry.column.fee", "5"),
        ("webhook.acq.registry.date_format", "%Y-%m-%d"),
        ("webhook.acq.registry.encoding", "utf-8"),
    ]:
        config_edit("payments", key, value)
    path = tmp_path / "acq.tsv"
    path.write_text("account\tid\tday\tsum\tfee\n100001\tT1\t2024-03-15\t500.00\t0\n",
                    encoding="utf-8")
    code, out, _error = reconcile(gateway="webhook.acq", file=str(path), date="2024-03-15")
    assert code == 3
    assert out[2] == "Registry: count 1, total 500.00 (fees 0.00); billing: count 4, total 940.00"
    report = Reconciliation.objects.get()
    assert (report.registry_format, report.matched_count, report.missing_in_registry_count) == (
        "csv", 1, 3)


def test_the_cli_offers_the_formats_the_parser_reads():
    assert CLI_FORMATS == FORMATS


def test_the_asr_billing_command_passes_the_exit_codes_through(
        make_subscriber, gateway, tmp_path, capsys):
    from asr_billing.cli import main

    ledger = full_ledger(make_subscriber)
    path = tmp_path / "reg.txt"
    path.write_bytes(ledger.registry)
    args = ["payments", "reconcile", "--gateway", gateway, "--file", str(path)]
    assert main(args) == 3
    out, err = capsys.readouterr()
    report = Reconciliation.objects.get()
    assert out.splitlines()[0] == (
        f"Reconciliation #{report.pk} of sberbank.reg (operator SBER_REG), registry of "
        "2024-03-15")
    assert err == f"error: the registry and the billing differ (lines: 6, report #{report.pk})\n"
    assert main([*args, "--date", "2024-03-15", "--format", "csv"]) == 2
    assert capsys.readouterr().err == (
        "error: reg.txt: Line 1: 1 columns; the settings read column 4\n")
    with pytest.raises(SystemExit) as caught:
        main([*args, "--format", "xml"])
    assert caught.value.code == 2
    assert Reconciliation.objects.count() == 1
