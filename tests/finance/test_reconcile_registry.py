"""Reading registries: Sberbank's layout and configured CSVs, exact rows and exact refusals
(with the line number)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from asr_billing.finance.reconcile_registry import (
    RegistryError,
    RegistrySettings,
    registry_parse,
)

pytestmark = pytest.mark.usefixtures("english")

D = Decimal
MSK = ZoneInfo("Europe/Moscow")
SBER = RegistrySettings(format="sberbank")

SBER_TEXT = (
    "Реестр платежей ООО \"Связь\" за 15/03/2024\r\n"
    "8623;0150;00123;10001;500.00;5.00;15/03/2024;09:15:00;CLIENTNO:100001;method_pay:card\r\n"
    "8623;0151;T-77;10002;250,50;2.51;15/03/2024;23:59:59;CLIENTNO:100002\r\n"
    "=2;750.50;7.51;1234;18/03/2024\r\n"
)


def parse(text: str | bytes, settings=SBER, encoding="cp1251", **kwargs):
    data = text.encode(encoding) if isinstance(text, str) else text
    return registry_parse(data, settings=settings, time_zone="Europe/Moscow", **kwargs)


def refusal(text, settings=SBER, encoding="cp1251") -> str:
    with pytest.raises(RegistryError) as caught:
        parse(text, settings, encoding)
    return caught.value.message


def test_sberbank_cp1251_rows_exactly():
    registry = parse(SBER_TEXT)
    assert registry.format == "sberbank"
    assert registry.encoding == "cp1251"
    assert registry.header == ('Реестр платежей ООО "Связь" за 15/03/2024',)
    assert [(r.line, r.txn_id, r.account, r.amount, r.fee, r.paid_at) for r in registry.rows] == [
        (2, "10001", "100001", D("500.00"), D("5.00"), datetime(2024, 3, 15, 9, 15, tzinfo=MSK)),
        (3, "10002", "100002", D("250.50"), D("2.51"),
         datetime(2024, 3, 15, 23, 59, 59, tzinfo=MSK)),
    ]
    assert (registry.amount, registry.fee) == (D("750.50"), D("7.51"))
    assert (str(registry.first_day), str(registry.last_day)) == ("2024-03-15", "2024-03-15")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_sberbank_utf8_with_and_without_bom_reads_the_same(encoding):
    registry = parse(SBER_TEXT.replace("\r\n", "\n"), encoding=encoding)
    assert registry.encoding == "utf-8"
    assert registry.header == ('Реестр платежей ООО "Связь" за 15/03/2024',)
    assert [r.txn_id for r in registry.rows] == ["10001", "10002"]


def test_sberbank_without_header_and_with_three_field_total():
    registry = parse("8623;1;1;77;10;0;01/04/2024;00:00:00;CLIENTNO:5\n=1;10.00;0.00\n\n")
    assert registry.header == ()
    assert [(r.txn_id, r.amount, r.fee) for r in registry.rows] == [("77", D("10.00"), D("0"))]


def test_sberbank_empty_day_is_a_total_line_only():
    registry = parse("=0;0.00;0.00\n")
    assert registry.rows == ()
    assert registry.first_day is None


SBER_ROW = "8623;0150;00123;{txn};{amount};0.00;15/03/2024;09:15:00;CLIENTNO:100001"


def one_row(amount="500.00", txn="1", total=None) -> str:
    total = total if total is not None else f"=1;{amount};0.00"
    return f"Header\n{SBER_ROW.format(txn=txn, amount=amount)}\n{total}\n"


@pytest.mark.parametrize(
    "amount", ["1e3", "NaN", "1.005", "0", "0.00", "-5.00", "", "12 3x", "1" * 30, "Infinity"]
)
def test_sberbank_refuses_amounts(amount):
    assert refusal(one_row(amount, total="=1;1.00;0.00")) == (
        f"Line 2: amount {amount!r} is not an amount greater than zero with at most 2 "
        "decimal places"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "Line 1: the registry is empty"),
        (b"\r\n \n\n", "Line 1: the registry is empty"),
        ("Header\n8623;0150;00123;1;500.00;0.00;15/03/2024;09:15:00\n=1;500.00;0.00\n",
         "Line 2: 8 fields; a payment line has 8 fields and then CLIENTNO:<account>"),
        ("8623;0150;00123;1;500.00;0.00;15/03/2024\n",
         "Line 1: 7 fields; a payment line has 8 fields and then CLIENTNO:<account>"),
        (one_row(total="=1;500.01;0.00"),
         "Line 3: the total line says 1 payments, 500.01, fee 0.00; the lines hold 1 "
         "payments, 500.00, fee 0.00"),
        (one_row(total="=2;500.00;0.00"),
         "Line 3: the total line says 2 payments, 500.00, fee 0.00; the lines hold 1 "
         "payments, 500.00, fee 0.00"),
        (one_row(total="=1;500.00"),
         "Line 3: the total line has 2 fields; it is =count;amount;fee, optionally followed "
         "by ;payment order number;its date"),
        (one_row(total="=one;500.00;0.00"), "Line 3: the total count 'one' is not a number"),
        (one_row(total="=1;5e2;0.00"),
         "Line 3: total amount '5e2' is not an amount of zero or more with at most 2 decimal "
         "places"),
        ("Header\n" + SBER_ROW.format(txn=1, amount="1.00") + "\n",
         "Line 2: the total line (=count;amount;fee) is missing: the file may be cut off"),
        (one_row() + "8623;0150;00123;2;1.00;0.00;15/03/2024;09:15:00;CLIENTNO:1\n",
         "Line 4: text after the total line (line 3)"),
        ("Header\n" + SBER_ROW.format(txn=1, amount="1.00") + "\nИтого\n=1;1.00;0.00\n",
         "Line 3: not a payment line: its first field (the ГОСБ code) is not a number"),
        (one_row().replace("15/03/2024", "31/02/2024"),
         "Line 2: date '31/02/2024' is not dd/mm/yyyy"),
        (one_row().replace("09:15:00", "25:00:00"), "Line 2: time '25:00:00' is not HH:MM:SS"),
        (one_row().replace("CLIENTNO:100001", "ACCOUNT=100001"),
         "Line 2: field 'ACCOUNT=100001' is not TAG:value (after the 8 fixed fields)"),
        (one_row().replace("CLIENTNO:100001", "FIO:Иванов"), "Line 2: no CLIENTNO:<account> field"),
        (one_row().replace("CLIENTNO:100001", "CLIENTNO:"),
         "Line 2: account '' must be 1 to 64 characters"),
        (one_row().replace("CLIENTNO:100001", "CLIENTNO:1;clientno:2"),
         "Line 2: tag clientno appears twice"),
        (one_row(txn="12 34"),
         "Line 2: transaction id '12 34' must be 1 to 100 characters without spaces"),
        (one_row().replace(";0150;", ";B1;"), "Line 2: branch (ВСП) code 'B1' is not a number"),
        (one_row().replace(";0.00;15/03", ";-1.00;15/03"),
         "Line 2: fee '-1.00' is not an amount of zero or more with at most 2 decimal places"),
        ("H\n" + "\n".join(SBER_ROW.format(txn=7, amount="1.00") for _ in range(2))
         + "\n=2;2.00;0.00\n",
         "Line 3: transaction 7 is listed twice (first on line 2)"),
        (one_row().replace("Header", "Head\x00er"), "Line 1: a NUL character (a binary file?)"),
    ],
)
def test_sberbank_refusals_name_the_line(text, message):
    assert refusal(text) == message


def test_bad_utf8_names_its_line():
    data = one_row().encode("utf-8").replace(b"Header", "Заголовок".encode("cp1251"))
    assert refusal(data, RegistrySettings(format="sberbank", encoding="utf-8")) == (
        "Line 1: byte 0xC7 is not UTF-8 text"
    )


def test_byte_undefined_in_cp1251_names_its_line():
    data = one_row().encode("cp1251").replace(b"09:15:00", b"09:15:00\x98")
    assert refusal(data) == "Line 2: byte 0x98 is not cp1251 text"


def test_auto_reads_cp1251_when_the_file_is_not_utf8():
    registry = parse(SBER_TEXT, encoding="cp1251")
    assert registry.header[0].startswith("Реестр платежей")


# --- CSV ---

CSV = RegistrySettings(
    format="csv", delimiter=",", skip_rows=1, txn_id_column=2, account_column=4,
    amount_column=3, date_column=1, time_column=0, fee_column=5, date_format="%Y-%m-%d %H:%M:%S",
)
CSV_TEXT = (
    "date,transaction,sum,account,commission\n"
    "2024-03-15 10:00:00,A-1,\"1 000,50\",100001,10.00\n"
    "\n"
    "2024-03-15 23:30:00,A-2,99.99,\"login, with comma\",0\n"
)


def test_csv_rows_exactly():
    registry = parse(CSV_TEXT, CSV, "utf-8")
    assert registry.header == ("date,transaction,sum,account,commission",)
    assert [(r.line, r.txn_id, r.account, r.amount, r.fee, r.paid_at) for r in registry.rows] == [
        (2, "A-1", "100001", D("1000.50"), D("10.00"),
         datetime(2024, 3, 15, 10, 0, tzinfo=MSK)),
        (4, "A-2", "login, with comma", D("99.99"), D("0"),
         datetime(2024, 3, 15, 23, 30, tzinfo=MSK)),
    ]


def test_csv_tab_separated_with_a_time_column_and_no_header():
    settings = RegistrySettings(
        format="csv", delimiter="\t", txn_id_column=1, account_column=2, amount_column=3,
        date_column=4, time_column=5, date_format="%d.%m.%Y", time_format="%H:%M",
    )
    registry = parse("9\t100001\t5\t01.04.2024\t07:05\n", settings, "cp1251")
    assert [(r.txn_id, r.amount, r.fee, r.paid_at) for r in registry.rows] == [
        ("9", D("5.00"), None, datetime(2024, 4, 1, 7, 5, tzinfo=MSK)),
    ]


def test_csv_with_header_only_has_no_rows():
    assert parse("date,transaction,sum,account,commission\n", CSV, "utf-8").rows == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CSV_TEXT + "2024-03-15 23:31:00,A-3,1.00,100001\n",
         "Line 5: 4 columns; the first payment line has 5"),
        ("h\n2024-03-15 10:00:00,A-1,1.00\n", "Line 2: 3 columns; the settings read column 5"),
        ("h\n15.03.2024,A-1,1.00,100001,0\n",
         "Line 2: '15.03.2024' does not match the date format %Y-%m-%d %H:%M:%S"),
        ("h\n2024-03-15 10:00:00,A-1,1e3,100001,0\n",
         "Line 2: amount '1e3' is not an amount greater than zero with at most 2 decimal places"),
        ("h\n2024-03-15 10:00:00,A-1,NaN,100001,0\n",
         "Line 2: amount 'NaN' is not an amount greater than zero with at most 2 decimal places"),
        ("h\n2024-03-15 10:00:00,A-1,1.125,100001,0\n",
         "Line 2: amount '1.125' is not an amount greater than zero with at most 2 decimal "
         "places"),
        ("h\n2024-03-15 10:00:00,,1.00,100001,0\n",
         "Line 2: transaction id '' must be 1 to 100 characters without spaces"),
        ('h\n2024-03-15 10:00:00,"A-1"x,1.00,100001,0\n',
         "Line 2: cannot split the line: ',' expected after '\"'"),
        ("", "Line 1: the registry is empty"),
    ],
)
def test_csv_refusals_name_the_line(text, message):
    assert refusal(text, CSV, "utf-8") == message


def test_csv_fewer_lines_than_header_rows():
    settings = RegistrySettings(format="csv", skip_rows=3)
    assert refusal("a;b;c;d\nx;y;z;w\n", settings) == (
        "Line 2: the file has 2 lines, fewer than the 3 header rows to skip"
    )


def test_format_override_reads_a_sberbank_file_with_csv_settings():
    registry = parse(SBER_TEXT, RegistrySettings(format="csv"), fmt="sberbank")
    assert registry.format == "sberbank"
    assert len(registry.rows) == 2
