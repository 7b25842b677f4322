"""``demo --subscribers N``: large data sets for benchmarks (100,000 in seconds, 1,000,000
in minutes).

Each run adds N subscribers in a new group, each with an account, one enabled login with
a unique IP from 100.64.0.0/10 (above any used there), a MAC, on the bench NAS 10.0.1.1
(so a collector list of one NAS with N logins can be measured), and a mix of states:
exactly 10% negbal, 3% admin-blocked, 40% online with an open session (for N a multiple
of 100). Every balance is backed by one payment, plus for the negbal ones a debt
correction, so ``asr-billing check`` passes. New subscribers are connected today and have
no charges yet: the billing run has the whole of today to charge.

Speed: rows go in as tuples through RowWriter (COPY on PostgreSQL), 5,000 subscribers a
transaction, with explicit ids taken above everything present, then the sequences are
moved past them. Not meant to run twice at the same time on one database.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from asr_billing.core.models import AuditEntry, Counter
from asr_billing.demo import names
from asr_billing.demo.common import (
    ACTOR,
    BENCH_NAS,
    RowWriter,
    contract_pattern,
    ensure_nas,
    ensure_tariffs,
    reset_sequences,
    root_group,
)
from asr_billing.demo.progress import progress_bar
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.network.crypto import encrypt_secret
from asr_billing.network.models import Login, OnlineSession
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.subscribers.services import CONTRACT_COUNTER

BATCH = 5_000
BENCH_PASSWORD = "benchpsw"  # noqa: S105 - the documented password of every bench login
BENCH_OPERATOR = ("BENCH", "Нагрузочный тест (demo --subscribers)")
CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Explicit ids start above these, so the story demo's fixed ids (subscribers 1301-1560,
# operations from 50001) stay free even when bulk data comes first.
SUBSCRIBER_FLOOR = 10_000
LOGIN_FLOOR = 10_000
OPERATION_FLOOR = 200_000
STORY_CONTRACTS = 260  # contract numbers 1..260 belong to the story demo
# State buckets of i*37 % 100 (37 is coprime to 100, so each 100 in a row hit each once).
NEGBAL, BLOCKED, ONLINE = range(0, 10), range(10, 13), range(13, 53)
# Tariff mix by i*53 % 20: daily 10%, spread 10%, the rest monthly.
TARIFF_MIX = (["Суточный 100"] * 2 + ["Оптимальный 200"] * 2 + ["Домашний 50"] * 4
              + ["Домашний 100"] * 6 + ["Домашний 300"] * 4 + ["Гигабит"] * 2)
PAYMENT, CORRECTION = int(OperationType.PAYMENT), int(OperationType.CORRECTION)  # plain ints
POOL = 8192  # precomputed names, addresses and phones, picked by index


class BulkError(Exception):
    """The bulk data could not be added; the message says why."""


@dataclass(frozen=True)
class BulkResult:
    subscribers: int
    first_id: int
    last_id: int
    first_contract: str
    last_contract: str
    group: str
    nas_ip: str
    logins: int
    online: int
    negbal: int
    blocked: int
    operations: int


@dataclass
class _Plan:
    count: int
    group: Group
    nas_id: int
    tariffs: list  # (tariff id, money needed for a month)
    operator_id: int
    contracts: list[str]
    first_subscriber: int
    first_login: int
    first_operation: int
    first_session: int
    first_ip: int


def _max_id(model, floor: int = 0) -> int:
    return max(model.objects.aggregate(m=Max("pk"))["m"] or 0, floor)


def _first_free_ip() -> int:
    """One above the highest address of 100.64.0.0/10 any login holds (enabled or not)."""
    low, high = int(CGNAT.network_address), int(CGNAT.broadcast_address)
    table = connection.ops.quote_name(Login._meta.db_table)
    column = connection.ops.quote_name(Login._meta.get_field("ip").column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT max({column}) FROM {table} WHERE {column} << %s",  # noqa: S608
                           [str(CGNAT)])
            found = cursor.fetchone()[0]
            return int(ipaddress.ip_address(str(found))) + 1 if found else low + 1
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} LIKE %s", ["100.%"])  # noqa: S608
        highest = low
        for (value,) in cursor.fetchall():
            parts = value.split(".")
            if len(parts) == 4:
                number = int.from_bytes(bytes(int(p) for p in parts), "big")
                if low <= number <= high:
                    highest = max(highest, number)
        return highest + 1


def _ip_text(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _usable_ips(start: int):
    """Addresses from ``start`` on, skipping .0 and .255 (clients dislike them)."""
    value, last = start, int(CGNAT.broadcast_address)
    while True:
        if value > last:
            raise BulkError(
                gettext("100.64.0.0/10 is used up: no free addresses for more logins"))
        if 0 < value & 255 < 255:
            yield value
        value += 1


def _reserve_contracts(count: int) -> list[str]:
    """Take ``count`` numbers from the contract counter (as subscriber_create would),
    skipping numbers already used by hand."""
    prefix, digits = contract_pattern()
    Counter.objects.get_or_create(name=CONTRACT_COUNTER)
    counter = Counter.objects.select_for_update().get(name=CONTRACT_COUNTER)
    start = max(counter.value, STORY_CONTRACTS) + 1

    def fmt(n):
        return f"{prefix}{n:0{digits}d}"

    taken = set(Subscriber.objects.filter(
        contract_number__gte=fmt(start), contract_number__lte=fmt(start + count * 2)
    ).values_list("contract_number", flat=True))
    numbers, n = [], start
    while len(numbers) < count:
        if fmt(n) not in taken:
            numbers.append(fmt(n))
        n += 1
    counter.value = n - 1
    counter.save(update_fields=["value"])
    return numbers


@transaction.atomic
def _prepare(count: int) -> _Plan:
    tariffs = ensure_tariffs()
    operator, _ = PaymentOperator.objects.get_or_create(
        code=BENCH_OPERATOR[0], defaults={"name": BENCH_OPERATOR[1]})
    name, ip, kind, text = BENCH_NAS
    nas = ensure_nas(name, ip, kind, text, "bench-radius-secret")
    root = root_group()
    number = Group.objects.filter(parent=root, name__startswith="Нагрузочный тест").count() + 1
    while Group.objects.filter(parent=root, name=f"Нагрузочный тест №{number}").exists():
        number += 1
    group = Group.objects.create(
        parent=root, name=f"Нагрузочный тест №{number}",
        comments=f"{count} абонентов от demo --subscribers {count}")
    mix = []
    for tariff_name in TARIFF_MIX:
        tariff = tariffs[tariff_name]
        month = tariff.fee * (30 if tariff.charge_method == "daily" else 1)
        mix.append((tariff.pk, month))
    return _Plan(
        count=count, group=group, nas_id=nas.pk, tariffs=mix, operator_id=operator.pk,
        contracts=_reserve_contracts(count),
        first_subscriber=_max_id(Subscriber, SUBSCRIBER_FLOOR) + 1,
        first_login=_max_id(Login, LOGIN_FLOOR) + 1,
        first_operation=_max_id(Operation, OPERATION_FLOOR) + 1,
        first_session=_max_id(OnlineSession) + 1,
        first_ip=_first_free_ip(),
    )


def _pools(rng: random.Random):
    people = [names.person(rng) for _ in range(POOL)]
    districts = ["center", "north", "river"]
    addresses = [names.street_address(rng, districts[i % 3]) for i in range(POOL)]
    phones = [names.mobile(rng) for _ in range(POOL)]
    return people, addresses, phones, [names.pretty_phone(p) for p in phones]


def _round_up_100(amount: Decimal) -> Decimal:
    return Decimal(-(-int(amount) // 100) * 100).quantize(Decimal("0.01"))


def create_bulk(*, count: int, seed: int | None = None) -> BulkResult:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise BulkError(
            gettext("bulk demo data supports SQLite and PostgreSQL, not %(vendor)s")
            % {"vendor": connection.vendor})
    plan = _prepare(count)
    rng = random.Random(seed if seed is not None else plan.first_subscriber)
    people, addresses, phones, pretty = _pools(rng)
    writer = RowWriter()
    now = timezone.now()
    today = timezone.localdate(now)
    ips = _usable_ips(plan.first_ip)
    totals = {"online": 0, "negbal": 0, "blocked": 0, "operations": 0}
    op_id, session_id = plan.first_operation, plan.first_session
    adding = ngettext("Adding %(count)d subscriber", "Adding %(count)d subscribers", count)
    with progress_bar(count, adding % {"count": count}) as bar:
        for batch_start in range(0, count, BATCH):
            # One Fernet token per batch, reused by every login in it: encrypting a
            # million passwords one by one takes minutes, and all of them decrypt to the
            # same BENCH_PASSWORD anyway.
            token = encrypt_secret(BENCH_PASSWORD)
            subs, accounts, logins, sessions, ops = [], [], [], [], []
            for i in range(batch_start, min(count, batch_start + BATCH)):
                sid = plan.first_subscriber + i
                login_id = plan.first_login + i
                bucket = i * 37 % 100
                tariff_id, month = plan.tariffs[i * 53 % 20]
                person, latin = people[i % POOL]
                address, flat = addresses[i * 7 % POOL]
                k = i * 13 % POOL
                negbal, blocked = bucket in NEGBAL, bucket in BLOCKED
                connected = writer.dt(now - dt.timedelta(minutes=30 + i % 600))
                paid = _round_up_100(month) * (1 + i % 3)
                email = f"{latin}{sid}@{names.EMAIL_DOMAINS[i % 6]}" if i % 2 else ""
                subs.append((sid, plan.group.pk, person, plan.contracts[i], email, phones[k],
                             pretty[k], address, flat, tariff_id, blocked,
                             "Нагрузочный тест: блокировка" if blocked else "", negbal, today))
                ops.append((op_id, sid, PAYMENT, paid, paid, connected,
                            "Платёж (нагрузочный тест)", ACTOR, plan.operator_id,
                            f"bench-{sid}"))
                op_id += 1
                balance = paid
                if negbal:
                    debt = -(paid + 100 + 50 * (i % 5))
                    balance = paid + debt
                    ops.append((op_id, sid, CORRECTION, debt, balance,
                                writer.dt(now - dt.timedelta(minutes=20)),
                                "Задолженность из прежней системы (нагрузочный тест)", ACTOR,
                                None, ""))
                    op_id += 1
                accounts.append((sid, balance, Decimal("0.00"), Decimal("0.00")))
                ip = _ip_text(next(ips))
                mac = "02:00:" + ":".join(f"{(sid >> s) & 255:02x}" for s in (24, 16, 8, 0))
                logins.append((login_id, sid, f"bench{sid}", token, True, ip, mac,
                               plan.nas_id))
                if bucket in ONLINE:
                    started = writer.dt(now - dt.timedelta(minutes=1 + i % 1440))
                    sessions.append((session_id, login_id, plan.nas_id, f"bench-{login_id:x}",
                                     ip, started, started, None, 0, 0))
                    session_id += 1
                totals["negbal"] += negbal
                totals["blocked"] += blocked
            try:
                with transaction.atomic():
                    writer.write(Subscriber, (
                        "id", "group_id", "name", "contract_number", "email", "sms_phone",
                        "phone", "address", "apartment", "tariff_id", "admin_blocked",
                        "admin_block_reason", "negbal", "connected_on"), subs)
                    writer.write(Account, ("subscriber_id", "balance", "credit_limit",
                                           "promised_amount"), accounts)
                    writer.write(Login, ("id", "subscriber_id", "login", "password_enc",
                                         "enabled", "ip", "mac", "nas_id"), logins)
                    writer.write(OnlineSession, (
                        "id", "login_id", "nas_id", "acct_session_id", "ip", "started_at",
                        "updated_at", "stopped_at", "input_octets", "output_octets"), sessions)
                    writer.write(Operation, (
                        "id", "account_id", "type", "amount", "balance_after", "op_date",
                        "description", "actor", "pay_operator_id", "external_id"), ops)
            except DatabaseError as exc:
                raise BulkError(
                    gettext("could not insert subscribers %(first)s..: %(reason)s (is "
                            "another `demo --subscribers` running?)")
                    % {"first": plan.first_subscriber + batch_start, "reason": exc}) from exc
            totals["online"] += len(sessions)
            totals["operations"] += len(ops)
            bar.advance(len(subs))
    with transaction.atomic():
        reset_sequences([Subscriber, Login, Operation, OnlineSession])
        AuditEntry.objects.create(
            actor=ACTOR, action="demo_data", object_type="group", object_id=str(plan.group.pk),
            message=f"bulk demo: {count} subscribers in «{plan.group.name}»")
    return BulkResult(
        subscribers=count, first_id=plan.first_subscriber,
        last_id=plan.first_subscriber + count - 1, first_contract=plan.contracts[0],
        last_contract=plan.contracts[-1], group=plan.group.name, nas_ip=BENCH_NAS[1],
        logins=count, **totals)
