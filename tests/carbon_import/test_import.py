"""``asr-billing import carbon`` end to end: a live asr-billing demo is the source (our
REST v2 speaks Carbon's wire), an empty home the target, both on SQLite or, with
ASR_BILLING_TEST_DB_URL, each on a PostgreSQL database of its own. The rows are compared
with SQL on both sides.

Each test builds its own target, so the tests hold under pytest-xdist's any order; the
source is shared by the tests of a worker (a test that changes it restores nothing the
others compare: they read the source as it is)."""

from __future__ import annotations

import http.server
import itertools
import os
import re
import sqlite3
import threading

import pytest

from tests.api.live import LiveDemo
from tests.docs.server import free_port
from tests.test_cli import run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english")]

DB_URL = os.environ.get("ASR_BILLING_TEST_DB_URL", "")

# What the import must make equal, table by table (ids included).
COMPARED = {
    "groups": "select id, name, parent_id, comments from subscribers_group order by id",
    "tariffs": "select id, name, fee, charge_method, disconnect_threshold, rate_in, ceil_in, "
               "burst_in, cburst_in, rate_out, ceil_out, burst_out, cburst_out, is_active, "
               "comments from tariffs_tariff order by id",
    "services": "select id, name, fee, charge_method, comments, is_show_web, web_allow_enable, "
                "web_allow_disable, is_active from tariffs_service order by id",
    "nas": "select id, name, ip, nas_type, description from network_nas order by id",
    "subscribers": "select id, contract_number, name, group_id, tariff_id, tariff_next_id, "
                   "tariff_next_date, is_company, email, sms_phone, phone, address, apartment, "
                   "code1c, synced_1c, connected_on, comments from subscribers_subscriber "
                   "order by id",
    "attribute kinds": "select id, name from subscribers_attribute order by id",
    "attributes": "select id, subscriber_id, attribute_id, value "
                  "from subscribers_attributevalue order by id",
    "logins": "select id, login, ip, mac, snat_ip, enabled, nas_id, subscriber_id, comments "
              "from network_login order by id",
    "subscriptions": "select id, subscriber_id, service_id, enabled_on, disabled_on, comment "
                     "from subscribers_subscriberservice order by id",
}
# Everything a run that changes nothing must leave as it was.
UNTOUCHED = {
    **COMPARED,
    "accounts": "select subscriber_id, balance, credit_limit from finance_account order by 1",
    "audit": "select count(*) from core_auditentry",
}

_numbers = itertools.count()


def _sql(home, db_url: str, statement: str, write: bool = False) -> list:
    if db_url:
        import psycopg

        with psycopg.connect(db_url, autocommit=write) as conn:
            cursor = conn.execute(statement)
            return [] if write else cursor.fetchall()
    with sqlite3.connect(home / "var" / "billing.sqlite3") as conn:
        rows = conn.execute(statement).fetchall()
        if write:
            conn.commit()
        return rows


def rows(side, queries=COMPARED) -> dict:
    return {name: _sql(side.home, side.db_url, sql) for name, sql in queries.items()}


def source_write(source: LiveDemo, statement: str) -> None:
    _sql(source.home, source.db_url, statement, write=True)


class Target:
    """An empty home (``init --language en``), on its own PostgreSQL database when the
    suite runs there."""

    def __init__(self, root):
        self.home = root / "target"
        self.db_url = ""
        if DB_URL.startswith("postgresql://"):
            self.server = DB_URL.rsplit("/", 1)[0]
            self.db_url = f"{self.server}/carbon_target_{os.getpid()}_{next(_numbers)}"
            name = self.db_url.rsplit("/", 1)[1]
            self._admin(f'drop database if exists "{name}"')
            self._admin(f'create database "{name}"')
            out = run("init", "--home", str(self.home), "--language", "en",
                      "--db-url", self.db_url)
        else:
            out = run("init", "--home", str(self.home), "--language", "en")
        assert out.returncode == 0, out.stderr

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
            conn.execute(statement)

    def drop(self) -> None:
        if self.db_url:
            self._admin(f'drop database if exists "{self.db_url.rsplit("/", 1)[1]}" with (force)')

    def imports(self, url: str, *extra: str):
        return run("import", "carbon", "--url", url, "--home", str(self.home), *extra)

    def shell(self, code: str) -> str:
        out = run("manage", "shell", "-c", code, "--home", str(self.home))
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().splitlines()[-1]  # after shell's "N objects imported"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    demo = LiveDemo(tmp_path_factory.mktemp("carbon_import_source"), DB_URL)
    demo.start()
    yield demo
    demo.stop()


@pytest.fixture
def target(tmp_path):
    home = Target(tmp_path)
    yield home
    home.drop()


def counts(report: str) -> dict[str, list[int]]:
    """The report's table: kind -> [created, updated, unchanged, skipped]."""
    table = {}
    for line in report.splitlines():
        found = re.fullmatch(r"(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line)
        if found:
            table[found[1]] = [int(n) for n in found.groups()[1:]]
    return table


def test_round_trip_then_nothing_then_one_change(source, target):
    first = target.imports(source.base)
    assert first.returncode == 0, (first.stdout, first.stderr)
    table = counts(first.stdout)
    expected = rows(source)
    assert table["subscribers"] == [len(expected["subscribers"]), 0, 0, 0]
    assert table["logins"] == [len(expected["logins"]), 0, 0, 0]
    assert table["groups"][3] == 0 and table["groups"][0] + table["groups"][2] == len(
        expected["groups"])
    assert rows(target) == expected
    assert len(expected["subscribers"]) == 260 and len(expected["logins"]) > 260
    assert any(row[5] is not None for row in expected["tariffs"])  # rates came over
    # Every subscriber has its account (the money: test_money.py); the lists to finish by
    # hand.
    accounts = _sql(target.home, target.db_url, "select count(*) from finance_account")[0]
    assert accounts[0] == 260
    assert "2 NAS need their RADIUS secret" in first.stdout
    assert f"{len(expected['logins'])} logins have no password" in first.stdout
    listed = (target.home / "var" / "carbon-import-logins-without-password.txt").read_text()
    assert len(listed.splitlines()) == len(expected["logins"])

    # A second run changes nothing, not even the audit log.
    before = rows(target, UNTOUCHED)
    second = target.imports(source.base)
    assert second.returncode == 0, second.stderr
    assert all(c[0] == c[1] == c[3] == 0 for c in counts(second.stdout).values())
    assert counts(second.stdout)["subscribers"] == [0, 0, 260, 0]
    assert rows(target, UNTOUCHED) == before

    # A subscriber renamed at the source: one update; a dry run of another writes nothing.
    source_write(source, "update subscribers_subscriber set name = 'Переименован Р.Р.' "
                         "where id = 1301")
    third = target.imports(source.base)
    assert third.returncode == 0, third.stderr
    assert counts(third.stdout)["subscribers"] == [0, 1, 259, 0]
    assert counts(third.stdout)["logins"] == [0, 0, len(expected["logins"]), 0]
    assert rows(target) == rows(source)
    source_write(source, "update tariffs_tariff set rate_in = 777 where id = 2")
    before = rows(target, UNTOUCHED)
    dry = target.imports(source.base, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert counts(dry.stdout)["tariffs"][1] == 1
    assert dry.stdout.rstrip().endswith("Dry run: nothing was written.")
    assert rows(target, UNTOUCHED) == before

    # The billing's own new rows get ids past the imported ones (sequences reset).
    made = target.shell(
        "from asr_billing.subscribers.models import Group\n"
        "from asr_billing.subscribers.services import subscriber_create\n"
        "from asr_billing.tariffs.services import tariff_create\n"
        "g = Group.objects.create(name='After import', parent_id=1)\n"
        "t = tariff_create(actor='test', name='After import')\n"
        "s = subscriber_create(name='After Import', group=g, actor='test')\n"
        "print(g.pk, t.pk, s.pk)\n")
    group_id, tariff_id, subscriber_id = (int(n) for n in made.split())
    assert group_id > max(row[0] for row in expected["groups"])
    assert tariff_id > max(row[0] for row in expected["tariffs"])
    assert subscriber_id > max(row[0] for row in expected["subscribers"])


def test_an_object_that_breaks_a_rule_is_skipped_and_the_rest_imported(source, target):
    victim, contract = _sql(source.home, source.db_url,
                            "select id, contract_number from subscribers_subscriber "
                            "where id = (select min(subscriber_id) from network_login)")[0]
    holder = int(target.shell(
        "from asr_billing.subscribers.models import Group\n"
        "from asr_billing.subscribers.services import subscriber_create\n"
        f"s = subscriber_create(name='Holder', group=Group.objects.get(pk=1), actor='test', "
        f"contract_number='{contract}')\n"
        "print(s.pk)\n"))
    done = target.imports(source.base)
    assert done.returncode == 1, done.stderr
    assert (f"  subscriber {victim}: the contract number {contract} belongs to subscriber "
            f"{holder} here") in done.stdout
    login = _sql(source.home, source.db_url,
                 f"select min(id) from network_login where subscriber_id = {int(victim)}"  # noqa: S608
                 )[0][0]
    assert f"  login {login}: its subscriber {victim} was skipped" in done.stdout
    total = len(rows(source)["subscribers"])
    assert counts(done.stdout)["subscribers"] == [total - 1, 0, 0, 1]
    imported = _sql(target.home, target.db_url, "select count(*) from subscribers_subscriber")
    assert imported[0][0] == total  # the holder + all but the victim
    by_contract = ("select name from subscribers_subscriber where contract_number = "  # noqa: S608
                   f"'{contract}'")  # the source's own BILL0000001-style number
    assert _sql(target.home, target.db_url, by_contract) == [("Holder",)]


class _HtmlPage(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_source_that_cannot_be_read_stops_before_writing(target):
    before = rows(target, UNTOUCHED)
    port = free_port()
    closed = target.imports(f"http://127.0.0.1:{port}")
    assert closed.returncode == 2
    assert closed.stdout == ""
    assert re.fullmatch(rf"error: cannot reach http://127.0.0.1:{port}/rest_api/v2: .*\n",
                        closed.stderr)
    server = http.server.HTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        html = target.imports(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert html.returncode == 2
    assert len(html.stderr.splitlines()) == 1
    assert "does not answer as Carbon's API REST v2.0 (HTTP 200: <html>" in html.stderr
    assert rows(target, UNTOUCHED) == before
