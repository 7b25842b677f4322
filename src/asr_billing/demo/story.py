"""The story demo: a believable Russian ISP of 260 subscribers with years of history.

Deterministic (fixed seeds). Who is who — names, contracts, contacts, 1C codes, logins,
IPs, MACs, tariffs, services — is the same whatever the day, so the docs' examples can show
it; money, dates and what follows from them (a promised payment, a connection fee) follow
today, as the history runs up to today. Each subscriber's history has its own random
stream, so its early years do not change with the day either. It also holds
exactly what the operator's example URLs name (shared/seed/system-api-operator-notes.txt):
contract BILL0000003 with login testlogin / testpsw at 10.20.30.41 on NAS 10.0.0.1;
subscriber 1361 with payments in March 2023; operation 54894; group 1225 of subscribers
not yet synced with 1C; payment operator SBERBANK_OSMP.

This module decides who is who (:func:`build`); ``history`` makes the ledger and
``store`` writes everything in one transaction.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from asr_billing.demo import history, names
from asr_billing.demo.common import local_dt
from asr_billing.demo.story_money import StoryMoney
from asr_billing.tariffs.models import ChargeMethod as M

SEED = 20230301
FIRST_SUBSCRIBER_ID = 1301
SUBSCRIBER_COUNT = 260
FIRST_OPERATION_ID = 50001
KEY_OPERATION_ID = 54894  # api_1c_get_fin_detail example
KEY_SUBSCRIBER_ID = 1361  # api_1c_get_fin_opers_with_context example: payments in 2023-03
TEST_SUBSCRIBER_ID = 1303  # contract BILL0000003, the cabinet and act_pay examples
TEST_LOGIN, TEST_PASSWORD, TEST_IP, TEST_NAS = "testlogin", "testpsw", "10.20.30.41", "10.0.0.1"
UNSYNCED_GROUP_ID = 1225  # api_1c_get_abonents example
TEST_IPTV_SINCE = dt.date(2024, 9, 2)  # testlogin's TV package (the docs' service examples)
HISTORY_START = dt.date(2023, 1, 9)
RECENT_DAYS = 120

# id, parent id (None: the root group), name, comment
GROUPS = [
    (1220, None, "Частные лица", ""),
    (1221, 1220, "Центральный район", ""),
    (1222, 1220, "Северный микрорайон", ""),
    (1223, 1220, "Посёлок Заречный", ""),
    (1224, None, "Юридические лица", ""),
    (1225, 1224, "Новые договоры (не выгружены в 1С)",
     "1С забирает их через api_1c_get_abonents с parent_id=1225 и отмечает выгруженными."),
    (1226, 1224, "Действующие договоры", "Выгружены в 1С, акты и оплаты сверяются с 1С."),
    (1227, None, "Служебные", "Сотрудники и оборудование, без абонентской платы."),
]
DISTRICT_GROUP = {"center": 1221, "north": 1222, "river": 1223}
NAS_OF_DISTRICT = {"center": "10.0.0.1", "north": "10.0.0.2", "river": "10.0.0.2",
                   "business": "10.0.0.1", "staff": "10.0.0.1"}
BLOCK_REASONS = [
    "Рассылка спама с адреса абонента (жалоба Spamhaus)",
    "По заявлению абонента: утеря договора, до личного визита",
    "Подозрение на взлом роутера, ботнет-трафик",
    "Не вернул арендованное оборудование после расторжения",
    "Решение руководителя: проверка документов",
]
COMMENTS = ["Звонить после 18:00", "Домофон не работает, звонить на мобильный",
            "Пенсионер, льгот нет", "Просил уведомлять по SMS", "Ключ от щитка у соседа, кв. 12"]
MAC_OUIS = ["50:c7:bf", "f4:f2:6d", "50:ff:20", "4c:5e:0c", "d4:ca:6d", "e8:cd:2d", "00:1a:2b"]


@dataclass
class LoginPlan:
    login: str
    password: str
    ip: str
    nas_ip: str
    mac: str = ""
    snat_ip: str | None = None
    enabled: bool = True
    id: int = 0


@dataclass
class Plan:
    """One subscriber of the story and everything that hangs on it."""

    kind: str  # person | company | staff
    group_id: int
    district: str  # center | north | river | business | staff
    segment: str  # base (2023 launch) | middle | recent (last RECENT_DAYS days)
    target: str = "paid"  # paid | negbal | credit | promised | blocked | vblock
    id: int = 0
    contract: str = ""
    name: str = ""
    latin: str = ""
    connected: dt.datetime | None = None
    tariff: object = None
    tariff_next: object = None
    credit_limit: Decimal = Decimal("0.00")
    synced: bool = False
    code1c: str = ""
    email: str = ""
    phone: str = ""
    sms: str = ""
    address: str = ""
    apartment: str = ""
    comments: str = ""
    attributes: dict[int, str] = field(default_factory=dict)
    services: list[tuple] = field(default_factory=list)  # (service, enabled_on, disabled_on)
    logins: list[LoginPlan] = field(default_factory=list)
    block_reason: str = ""
    vblock: tuple[dt.date, dt.date] | None = None
    past_vblock: tuple[dt.date, dt.date] | None = None
    payer: history.Payer | None = None
    events: list = field(default_factory=list)
    # The outcome, set by store once the whole ledger is ordered.
    balance: Decimal = Decimal("0.00")
    promised: Decimal = Decimal("0.00")
    negbal: bool = False
    online: bool = False


def _segment_dates(rng, count, first: dt.date, last: dt.date) -> list[dt.date]:
    span = (last - first).days
    return sorted(first + dt.timedelta(days=rng.randint(0, span)) for _ in range(count))


def _pick(rng, items, weights):
    return rng.choices(items, weights=weights)[0]


class StoryBuilder(StoryMoney):
    def __init__(self, *, today: dt.date, now: dt.datetime, tariffs, services, seed=SEED):
        if today < dt.date(2023, 9, 1):
            raise ValueError("the story demo's history starts in 2023; the clock is earlier")
        self.seed = seed
        # Every draw whose range or count depends on today comes from day_rng, so that
        # rng's stream, and with it who is who, does not depend on the day.
        self.rng = random.Random(seed)
        self.day_rng = random.Random(seed + 2)
        self.special = {TEST_SUBSCRIBER_ID, KEY_SUBSCRIBER_ID}  # the examples' subscribers
        self.today = today
        self.now = now
        self.tariffs = tariffs
        self.svc = services
        self.plans: list[Plan] = []
        self.used_companies: set[str] = set()

    # -- who ----------------------------------------------------------------------------
    def _profiles(self) -> list[Plan]:
        rng = self.rng
        districts = ["center", "north", "river"]

        def persons(n, segment):
            return [Plan("person", 0, _pick(rng, districts, [45, 35, 20]), segment)
                    for _ in range(n)]

        base = persons(60, "base") + [Plan("company", 1226, "business", "base")
                                      for _ in range(10)]
        base += [Plan("staff", 1227, "staff", "base") for _ in range(5)]
        middle = persons(125, "middle") + [Plan("company", 1226, "business", "middle")
                                           for _ in range(20)]
        recent = persons(15, "recent") + [Plan("company", UNSYNCED_GROUP_ID, "business",
                                               "recent") for _ in range(25)]
        for segment in (base, middle, recent):
            rng.shuffle(segment)
        # BILL0000003 and 1361 are ordinary private subscribers of the 2023 launch.
        for index, district in ((TEST_SUBSCRIBER_ID - FIRST_SUBSCRIBER_ID, "center"),
                                (KEY_SUBSCRIBER_ID - FIRST_SUBSCRIBER_ID, None)):
            j = next(j for j in range(index, len(base)) if base[j].kind == "person"
                     and district in (None, base[j].district))
            base[index], base[j] = base[j], base[index]
        recent_start = self.today - dt.timedelta(days=RECENT_DAYS)
        spans = [(base, HISTORY_START, dt.date(2023, 2, 28)),
                 (middle, dt.date(2023, 3, 1), recent_start - dt.timedelta(days=1)),
                 (recent, recent_start, self.today - dt.timedelta(days=2))]
        plans = []
        for segment, first, last in spans:
            days = _segment_dates(self.day_rng, len(segment), first, last)
            for plan, day in zip(segment, days, strict=True):
                plan.connected = local_dt(day, rng.randint(9, 18), rng.randint(0, 59))
                plans.append(plan)
        assert len(plans) == SUBSCRIBER_COUNT
        return plans

    def _identity(self, plan: Plan, prefix: str, digits: int) -> None:
        rng = self.rng
        plan.contract = f"{prefix}{plan.id - FIRST_SUBSCRIBER_ID + 1:0{digits}d}"
        if plan.kind == "person":
            plan.group_id = DISTRICT_GROUP[plan.district]
            plan.name, plan.latin = names.person(rng)
            plan.address, plan.apartment = names.street_address(rng, plan.district)
            plan.sms = names.mobile(rng)
            plan.phone = names.pretty_phone(plan.sms)
            if rng.random() < 0.75:
                plan.email = names.email_for(rng, plan.latin, rng.randint(1, 99))
            if rng.random() < 0.08:
                plan.comments = rng.choice(COMMENTS)
            if rng.random() < 0.04:
                plan.attributes[1012] = str(rng.randint(100_000_000, 999_999_999))
        elif plan.kind == "company":
            info = names.company(rng, self.used_companies)
            plan.name, plan.latin = info["name"], info["latin"]
            office, _ = names.street_address(rng, "business")
            plan.address = f"{office}, оф. {rng.randint(1, 40)}"
            plan.sms = names.mobile(rng)
            plan.phone = names.pretty_phone(plan.sms)
            plan.email = f"info@{plan.latin}.ru"
            plan.attributes[4] = info["inn"]
            if info["kpp"]:
                plan.attributes[5] = info["kpp"]
            legal, _ = names.street_address(rng, "business")
            plan.attributes[25] = f"{names.POSTCODE}, Московская обл., {legal}"
            plan.attributes[26] = f"{names.POSTCODE}, Московская обл., {plan.address}"
        else:
            plan.name = ["Сетевой узел ул. Ленина, 1", "Сетевой узел ул. Северная, 10",
                         "Офис: бухгалтерия", "Офис: техподдержка", "Директор (служебный)"
                         ][plan.id % 5]
            plan.latin = ["node-center", "node-north", "office-buh", "office-noc",
                          "director"][plan.id % 5]
            plan.address = f"{names.TOWN}, ул. Ленина, д. 1"

    def _tariff(self, plan: Plan) -> None:
        rng, t = self.rng, self.tariffs
        if plan.kind == "staff":
            plan.tariff = t["Служебный"]
        elif plan.kind == "company":
            plan.tariff = t[_pick(rng, ["Бизнес 100", "Бизнес 500"], [70, 30])]
        elif plan.id in (TEST_SUBSCRIBER_ID, KEY_SUBSCRIBER_ID):
            plan.tariff = t["Домашний 100"]
        elif plan.segment == "base":
            plan.tariff = t[_pick(rng, ["Старт 20", "Домашний 50", "Домашний 100",
                                        "Домашний 300"], [25, 30, 35, 10])]
        elif plan.segment == "middle":
            plan.tariff = t[_pick(rng, ["Домашний 50", "Домашний 100", "Домашний 300",
                                        "Гигабит"], [15, 40, 30, 15])]
        else:
            plan.tariff = t[_pick(rng, ["Оптимальный 200", "Суточный 100", "Домашний 100",
                                        "Домашний 300"], [40, 35, 15, 10])]

    # -- states ---------------------------------------------------------------------------
    def _targets(self) -> None:
        rng = self.rng
        special = self.special
        persons = [p for p in self.plans if p.kind == "person" and p.id not in special]
        monthly = [p for p in persons if p.tariff.charge_method == M.MONTHLY]
        companies = [p for p in self.plans if p.kind == "company"]
        free = set(id(p) for p in persons + companies)

        def take(pool, n, target, where=None):
            chosen = [p for p in pool if id(p) in free and (where is None or where(p))]
            for plan in rng.sample(chosen, n):
                plan.target = target
                free.discard(id(plan))

        # Both NAS must have someone in each collector list (negbal, blocked, logged).
        for nas_ip in ("10.0.0.1", "10.0.0.2"):
            take(monthly, 2, "blocked", lambda p, ip=nas_ip: NAS_OF_DISTRICT[p.district] == ip)
            take(monthly, 3, "vblock", lambda p, ip=nas_ip: NAS_OF_DISTRICT[p.district] == ip)
            take(persons, 10, "negbal", lambda p, ip=nas_ip: NAS_OF_DISTRICT[p.district] == ip)
        take(persons, 4, "negbal", lambda p: p.segment == "recent")
        take(monthly, 6, "credit")
        take(monthly, 4, "promised")
        take(companies, 3, "negbal")
        take(companies, 1, "blocked")

    def _payer(self, plan: Plan) -> None:
        rng = self.rng
        channels = ["SBERBANK_OSMP", "SBERBANK_ACQ", "QIWI", "CASH"]
        if plan.kind == "company" and plan.synced:
            plan.payer = history.Payer("BANK", invoice=True)
            plan.credit_limit = Decimal("5000.00") if plan.tariff.fee < 5000 else Decimal(
                "10000.00")
        elif plan.kind == "company":
            plan.payer = history.Payer(rng.choice(["SBERBANK_ACQ", "CASH"]),
                                       months=rng.choice([1, 1, 3]))
        else:
            weights = [40, 25, 15 if plan.segment != "recent" else 0, 20]
            channel = _pick(rng, channels, weights)
            plan.payer = history.Payer(
                channel,
                months=_pick(rng, [1, 2, 3, 6, 12], [55, 15, 15, 10, 5]),
                late=rng.random() < 0.25,
                extra_channels=[c for c in channels if c != channel],
            )
        payer = plan.payer
        daily = plan.tariff.charge_method in (M.DAILY, M.MONTHLY_SPREAD)
        if plan.id == KEY_SUBSCRIBER_ID:
            # Pays a few days after each 1st, so March 2023 has its payments.
            payer.channel, payer.months, payer.late = "SBERBANK_OSMP", 1, True
        elif plan.id == TEST_SUBSCRIBER_ID:
            payer.months, payer.late = 3, False
        # Debtors stop paying before this month's 1st, so at least this month's fee is
        # unpaid whatever day it is today (a daily payer's last top-up lasts a month).
        first_of_month = self.today.replace(day=1)
        if plan.target == "negbal":
            payer.months, payer.late = 1, False
            if daily:
                payer.stop = self.today - dt.timedelta(days=rng.randint(40, 60))
            elif plan.kind == "company":
                payer.stop = self.today - dt.timedelta(days=75)
            else:
                payer.stop = first_of_month - dt.timedelta(days=rng.randint(1, 60))
        elif plan.target in ("credit", "promised"):
            payer.stop = first_of_month - dt.timedelta(days=rng.randint(1, 10))
            payer.months, payer.late = 1, False
            if plan.target == "credit":
                plan.credit_limit = history.round_up(plan.tariff.fee * Decimal("1.5"), 100)
        elif plan.target in ("vblock", "blocked"):
            payer.months = max(payer.months, 2)
        if plan.kind == "person" and plan.target == "paid" and rng.random() < 0.05:
            plan.credit_limit = Decimal("300.00")

    # -- services, logins, blocks ---------------------------------------------------------
    def _services(self) -> None:
        rng, svc, today = self.rng, self.svc, self.today
        persons = [p for p in self.plans if p.kind == "person"]
        for plan in self.plans:
            if plan.kind == "staff":
                continue
            if plan.connected.date() >= dt.date(2024, 1, 1):
                plan.services.append((svc["Подключение"], plan.connected.date(), None))
            if plan.kind == "company":
                plan.services.append((svc["Статический IP-адрес"], plan.connected.date(), None))

        def later(plan, lo, hi):
            back = today - dt.timedelta(days=rng.randint(lo, hi))
            return max(plan.connected.date(), back)

        for plan in rng.sample([p for p in persons if p.segment != "recent"], 8):
            plan.services.append((svc["Статический IP-адрес"], later(plan, 30, 500), None))
        for plan in rng.sample(persons, 20):
            plan.services.append((svc["Аренда роутера"], plan.connected.date(), None))
        for n, plan in enumerate(rng.sample(persons, 25)):
            start = later(plan, 10, 150)
            stop = start + dt.timedelta(days=rng.randint(14, 40)) if n < 3 else None
            plan.services.append((svc["IPTV «Базовый»"], start,
                                  stop if stop and stop < today else None))
        # The docs' examples show testlogin's TV package (cabinet service list, UsersUsluga,
        # the IPTV access list).
        [test] = [p for p in persons if p.id == TEST_SUBSCRIBER_ID]
        if not any(service is svc["IPTV «Базовый»"] for service, _, _ in test.services):
            test.services.append((svc["IPTV «Базовый»"], TEST_IPTV_SINCE, None))
        for plan in rng.sample(persons, 10):
            plan.services.append((svc["Антивирус Dr.Web"], later(plan, 5, 90), None))
        for plan in rng.sample(persons, 12):
            span = (today - plan.connected.date()).days - 1
            if span > 0:
                day = plan.connected.date() + dt.timedelta(days=self.day_rng.randint(1, span))
                plan.services.append((svc["Выезд мастера"], day, None))

    def _logins(self) -> None:
        rng = self.rng
        pools = {"10.0.0.1": self._ip_pool("10.20", 30), "10.0.0.2": self._ip_pool("10.30", 0)}
        snat_public = (f"203.0.113.{n}" for n in range(10, 250))
        login_id = FIRST_SUBSCRIBER_ID
        for plan in self.plans:
            nas_ip = NAS_OF_DISTRICT[plan.district]
            count = 2 if plan.kind == "company" and plan.id % 4 == 0 else 1
            for n in range(count):
                if plan.id == TEST_SUBSCRIBER_ID:
                    entry = LoginPlan(TEST_LOGIN, TEST_PASSWORD, TEST_IP, TEST_NAS)
                else:
                    name = f"{plan.latin[:16]}{plan.id}" + (f"-{n + 1}" if n else "")
                    password = "".join(rng.choice("abcdefghkmnpqrstuvwxyz23456789")
                                       for _ in range(8))
                    entry = LoginPlan(name, password, next(pools[nas_ip]), nas_ip)
                if rng.random() < 0.85:
                    entry.mac = f"{rng.choice(MAC_OUIS)}:" + ":".join(
                        f"{rng.randint(0, 255):02x}" for _ in range(3))
                if plan.kind == "company":
                    entry.snat_ip = next(snat_public)
                elif nas_ip == "10.0.0.2" and rng.random() < 0.3:
                    entry.snat_ip = f"198.51.100.{rng.randint(2, 9)}"  # the CGNAT pool
                entry.id = login_id
                login_id += 1
                plan.logins.append(entry)
            if plan.kind == "person" and rng.random() < 0.012:
                # A login left from an old connection: disabled, its stale IP kept.
                old = LoginPlan(f"{plan.latin[:16]}{plan.id}-old", "oldpass1",
                                next(pools[nas_ip]), nas_ip, enabled=False, id=login_id)
                login_id += 1
                plan.logins.append(old)

    def _ip_pool(self, prefix: str, third: int):
        rng = self.rng
        while True:
            for last in range(10, 250):
                address = f"{prefix}.{third}.{last}"
                if address != TEST_IP and rng.random() < 0.7:
                    yield address
            third += 1

    def _blocks(self) -> None:
        rng, today = self.rng, self.today
        reasons = iter(BLOCK_REASONS * 2)
        for plan in self.plans:
            if plan.target == "blocked":
                plan.block_reason = next(reasons)
            elif plan.target == "vblock":
                # Taken this month, after the 1st's charge (which did not know of it).
                start = max(today - dt.timedelta(days=rng.randint(0, 10)), today.replace(day=1))
                plan.vblock = (start, today + dt.timedelta(days=rng.randint(5, 25)))
        quiet = [p for p in self.plans if p.kind == "person" and p.target == "paid"
                 and p.segment == "base"]
        for plan in rng.sample(quiet, 5):
            start = dt.date(2025, rng.randint(5, 8), rng.randint(2, 20))
            plan.past_vblock = (start, start + dt.timedelta(days=rng.randint(7, 30)))
        movers = [p for p in self.plans if p.kind == "person" and p.target == "paid"
                  and p.tariff.name == "Домашний 50"]
        for plan in movers[:3]:
            plan.tariff_next = self.tariffs["Домашний 100"]

    def build(self, *, prefix: str, digits: int) -> list[Plan]:
        self.plans = self._profiles()
        for offset, plan in enumerate(self.plans):
            plan.id = FIRST_SUBSCRIBER_ID + offset
            self._identity(plan, prefix, digits)
            self._tariff(plan)
        companies = [p for p in self.plans if p.kind == "company"]
        for n, plan in enumerate(companies):
            synced = plan.group_id == 1226 or plan.id % 9 == 0
            if synced:
                plan.synced, plan.code1c = True, f"00-{3100 + n * 7:08d}"
        self._targets()
        for plan in self.plans:
            if plan.kind != "staff":
                self._payer(plan)
        self._services()
        self._logins()
        self._blocks()
        for plan in self.plans:
            if plan.kind != "staff":
                self._events(plan)
        self._mishaps()
        self._promises()
        return self.plans
