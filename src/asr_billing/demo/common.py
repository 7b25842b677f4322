"""Pieces both demo generators share: the tariff, service and operator catalogue, the
NAS, contract numbers, sequence resets and a fast row writer for large data sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from asr_billing.core import runtime
from asr_billing.finance.models import PaymentOperator
from asr_billing.network.models import Nas
from asr_billing.network.services import nas_create
from asr_billing.subscribers.models import Group
from asr_billing.tariffs.models import ChargeMethod, Service, Tariff

ACTOR = "demo"
M = ChargeMethod

# name, fee (roubles per period of the method), method, down/up Mbit/s, guaranteed share
# of the ceiling (HTB rate = ceil * share), available, comment.
TARIFFS = [
    ("Старт 20", "350.00", M.MONTHLY, 20, 10, 0.5, False,
     "Архивный тариф 2023 года: новым абонентам не подключается, у старых остаётся."),
    ("Домашний 50", "450.00", M.MONTHLY, 50, 50, 0.5, True, ""),
    ("Домашний 100", "600.00", M.MONTHLY, 100, 100, 0.5, True, ""),
    ("Домашний 300", "850.00", M.MONTHLY, 300, 300, 0.5, True, ""),
    ("Гигабит", "1200.00", M.MONTHLY, 1000, 1000, 0.5, True, ""),
    ("Оптимальный 200", "750.00", M.MONTHLY_SPREAD, 200, 200, 0.5, True,
     "Месячная плата списывается по дням."),
    ("Суточный 100", "25.00", M.DAILY, 100, 100, 0.5, True, "Плата за каждые сутки."),
    ("Бизнес 100", "2500.00", M.MONTHLY, 100, 100, 1.0, True, "Гарантированная полоса."),
    ("Бизнес 500", "6000.00", M.MONTHLY, 500, 500, 1.0, True, "Гарантированная полоса."),
    ("Служебный", "0.00", M.MONTHLY, 1000, 1000, 1.0, True, "Для сотрудников и оборудования."),
]

# name, fee, method, shown in the cabinet, can be enabled there, can be disabled there.
SERVICES = [
    ("Статический IP-адрес", "150.00", M.MONTHLY, True, False, True),
    ("IPTV «Базовый»", "249.00", M.MONTHLY_SPREAD, True, True, True),
    ("Антивирус Dr.Web", "3.00", M.DAILY, True, True, True),
    ("Аренда роутера", "100.00", M.MONTHLY, True, False, False),
    ("Подключение", "1000.00", M.ONCE, False, False, False),
    ("Выезд мастера", "500.00", M.ONCE, True, True, False),
]

# IPTV packages: the channels (as the IPTV server names them) of services that have them
# (collector_manager.collector_iptv_accept_list_get).
CHANNELS = {
    "IPTV «Базовый»": ["Первый канал", "Россия 1", "НТВ", "Пятый канал", "Россия К",
                       "Карусель", "ОТР", "ТВ Центр", "Матч ТВ", "СТС"],
}

OPERATORS = [
    ("SBERBANK_OSMP", "Сбербанк: терминалы и онлайн-банк (протокол OSMP)", True),
    ("SBERBANK_ACQ", "Сбербанк: оплата картой в личном кабинете", True),
    ("QIWI", "QIWI: терминалы (приём прекращён в феврале 2024)", False),
    ("CASH", "Касса офиса", True),
    ("BANK", "Безналичная оплата (выписка банка через 1С)", True),
    # The demo's payment gateways (cfg/config payments['<type>.demo.operator'], docs/payments.md).
    ("OSMP_DEMO", "Демо: терминалы по протоколу OSMP (/pay/osmp/demo/)", True),
    ("SBERBANK_DEMO", "Демо: Сбербанк, протокол 2 и СберБанк Онлайн (/pay/sberbank/demo/)", True),
    ("WEBHOOK_DEMO", "Демо: эквайер с подписанным webhook (/pay/webhook/demo/)", True),
]

DEMO_NAS = [
    ("BRAS-1 Центр", "10.0.0.1", "mikrotik", "Центр, Юрлица и служебные"),
    ("BRAS-2 Север", "10.0.0.2", "accel-ppp", "Северный микрорайон и пос. Заречный"),
]
BENCH_NAS = ("BRAS-BENCH", "10.0.1.1", "accel-ppp", "Нагрузочные тесты (demo --subscribers)")


def ensure_tariffs() -> dict[str, Tariff]:
    """The demo tariffs by name, created if missing (an operator's edits are kept)."""
    result = {}
    for name, fee, method, down, up, share, active, comment in TARIFFS:
        ceil_in, ceil_out = down * 1024, up * 1024
        tariff, _ = Tariff.objects.get_or_create(
            name=name,
            defaults={
                "fee": Decimal(fee),
                "charge_method": method,
                "rate_in": int(ceil_in * share),
                "ceil_in": ceil_in,
                "burst_in": ceil_in // 8,
                "cburst_in": ceil_in // 4,
                "rate_out": int(ceil_out * share),
                "ceil_out": ceil_out,
                "burst_out": ceil_out // 8,
                "cburst_out": ceil_out // 4,
                "is_active": active,
                "comments": comment,
                "web_line": WEB_LINES.get(name, ""),
            },
        )
        result[name] = tariff
    return result


# The cabinet's tariff change (billing.tariff_choice): the lines subscribers move within.
WEB_LINES = {
    "Старт 20": "Домашние", "Домашний 50": "Домашние", "Домашний 100": "Домашние",
    "Домашний 300": "Домашние", "Гигабит": "Домашние",
    "Бизнес 100": "Бизнес", "Бизнес 500": "Бизнес",
}


def ensure_services() -> dict[str, Service]:
    result = {}
    for name, fee, method, show, enable, disable in SERVICES:
        service, _ = Service.objects.get_or_create(
            name=name,
            defaults={
                "fee": Decimal(fee),
                "charge_method": method,
                "is_show_web": show,
                "web_allow_enable": enable,
                "web_allow_disable": disable,
                "channels": "\n".join(CHANNELS.get(name, [])),
            },
        )
        result[name] = service
    return result


def ensure_operators() -> dict[str, PaymentOperator]:
    result = {}
    for code, name, enabled in OPERATORS:
        operator, _ = PaymentOperator.objects.get_or_create(
            code=code, defaults={"name": name, "enabled": enabled}
        )
        result[code] = operator
    return result


def ensure_nas(name: str, ip: str, nas_type: str, description: str, secret: str) -> Nas:
    """The NAS at ``ip``, created through the service (encrypted secret, audit) if missing."""
    existing = Nas.objects.filter(ip=ip).first()
    if existing is not None:
        return existing
    return nas_create(
        name=name, ip=ip, actor=ACTOR, nas_type=nas_type, radius_secret=secret,
        description=description,
    )


def root_group() -> Group:
    root = Group.objects.filter(parent__isnull=True).order_by("id").first()
    return root or Group.objects.create(name="Абоненты")


def contract_pattern() -> tuple[str, int]:
    """(prefix, digits) of contract numbers, as subscribers.services generates them."""
    snapshot = runtime.current()
    return snapshot.get("app", "contract.prefix"), int(snapshot.get("app", "contract.digits"))


def reset_sequences(models: Sequence) -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them (SQLite's
    AUTOINCREMENT follows by itself), so the next ordinary insert does not collide."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def local_dt(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware datetime at a local wall-clock time (app['time_zone']) of ``day``."""
    naive = dt.datetime(day.year, day.month, day.day, hour, minute, second)
    return timezone.make_aware(naive, timezone.get_default_timezone())


class RowWriter:
    """Insert plain tuples fast: COPY on PostgreSQL, executemany on SQLite.

    Building a million Django model instances costs more than the database work, so the
    bulk generator hands rows over as tuples of ready values. Columns not passed get the
    model field's default (or "now" for auto_now fields), so a field added later with a
    default does not break the writer. Values must already be what the column holds:
    ``datetime`` values go through :meth:`dt` (SQLite keeps naive UTC text).
    """

    def __init__(self):
        self.vendor = connection.vendor
        self.now = timezone.now()

    def dt(self, value: dt.datetime | None):
        if value is None or self.vendor != "sqlite":
            return value
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def _defaults(self, model, attnames: Sequence[str]) -> tuple[list[str], tuple]:
        """Columns the caller leaves out, with the value each gets."""
        given = set(attnames)
        columns, values = [], []
        for field in model._meta.concrete_fields:
            if field.attname in given:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = self.dt(self.now)
            elif field.primary_key:
                raise ValueError(f"{model.__name__}: the writer needs explicit primary keys")
            else:
                value = field.get_default()
            columns.append(field.column)
            values.append(value)
        return columns, tuple(values)

    def write(self, model, attnames: Sequence[str], rows: Iterable[tuple]) -> int:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [a for a in attnames if a not in fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {unknown}")
        extra_columns, extra = self._defaults(model, attnames)
        columns = [fields[a].column for a in attnames] + extra_columns
        table = connection.ops.quote_name(model._meta.db_table)
        column_sql = ", ".join(connection.ops.quote_name(c) for c in columns)
        count = 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + extra)
                        count += 1
            else:
                marks = ", ".join(["%s"] * len(columns))
                batch = [row + extra for row in rows]
                cursor.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({marks})", batch)  # noqa: S608 - names come from the model
                count = len(batch)
        return count
