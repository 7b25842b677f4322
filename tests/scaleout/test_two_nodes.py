"""Two app nodes (two ``asr-billing serve`` with homes of their own) on one PostgreSQL
database, as docs/scaling.md deploys them behind a balancer: a payment storm that sends
every payment to both nodes at once posts each exactly once; a cabinet login made on one
node is a session on the other, and failed logins count across both; both nodes'
schedulers at once charge every subscriber once — one run works, the other skips and
says so."""

from __future__ import annotations

import html
import http.cookiejar
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest

from tests.docs.server import clean_env
from tests.scaleout.cluster import Cluster, requires_postgres_server

pytestmark = [requires_postgres_server, pytest.mark.slow]

PAYMENTS = 120

# "run DATE skipped: …" of the scheduler in the demo homes' language, Russian.
SKIPPED = "пропущен"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("two-nodes"), "two_nodes").create()
    home = cluster.home(1)
    cluster.config(home, "cabinet", "web.auto_login", "no")
    # The test's browser is a subscriber at 127.0.0.1, not a cabinet server that logs
    # others in (those are never counted as one client).
    cluster.config(home, "network", "api.cabinet_servers", "192.0.2.1")
    cluster.home(2)  # a copy of node 1's cfg/, made after the settings above
    cluster.start_node(1)
    cluster.start_node(2)
    yield cluster
    cluster.destroy()


def test_a_payment_storm_over_both_nodes_posts_each_payment_once(cluster):
    first, second = cluster.nodes
    key = cluster.key("payments")
    (before,) = cluster.sql("SELECT balance FROM finance_account a JOIN subscribers_subscriber "
                            "s ON s.id = a.subscriber_id WHERE s.contract_number = 'BILL0000003'")

    def pay(job):
        node, number = job
        return node.post_json("/api/v1/payments/", {
            "subscriber": "BILL0000003", "amount": f"{number % 7 + 1}.25", "operator": "BANK",
            "external_id": f"storm-{number}"}, key)

    # Every payment twice, once to each node, the two sends side by side in the queue.
    jobs = [(node, number) for number in range(PAYMENTS) for node in (first, second)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(pay, jobs))
    statuses = [status for status, _ in answers]
    assert sorted(set(statuses)) == [200, 201], answers[:4]
    assert statuses.count(201) == PAYMENTS and statuses.count(200) == PAYMENTS
    by_id = {}
    for (_, number), (_status, body) in zip(jobs, answers, strict=True):
        by_id.setdefault(number, set()).add(body["id"])
    assert all(len(ids) == 1 for ids in by_id.values())  # both answers name one payment

    rows = cluster.sql("SELECT external_id, count(*), sum(amount) FROM finance_operation "
                       "WHERE external_id LIKE 'storm-%%' GROUP BY external_id")
    assert len(rows) == PAYMENTS and all(count == 1 for _, count, _ in rows)
    paid = sum(Decimal(f"{n % 7 + 1}.25") for n in range(PAYMENTS))
    assert sum(amount for _, _, amount in rows) == paid
    (after,) = cluster.sql("SELECT balance FROM finance_account a JOIN subscribers_subscriber "
                           "s ON s.id = a.subscriber_id WHERE s.contract_number = 'BILL0000003'")
    assert after[0] - before[0] == paid
    # The ledger still adds up: every balance is the sum of its operations.
    assert cluster.sql("SELECT count(*) FROM finance_account a WHERE a.balance <> "
                       "(SELECT coalesce(sum(amount), 0) FROM finance_operation o "
                       "WHERE o.account_id = a.subscriber_id)") == [(0,)]


class Browser:
    """A cookie jar and a form post: a subscriber's browser, whichever node answers."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[str, str]:
        with self.opener.open(url, timeout=30) as answer:
            return answer.geturl(), answer.read().decode()

    def post(self, node, page_path: str, action: str, fields: dict) -> tuple[str, str]:
        """Submit a form of the page at ``page_path`` (its CSRF token) to ``action``."""
        _, page = self.get(f"{node.base}{page_path}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(f"{node.base}{action}", data=form,  # noqa: S310
                                         headers={"Referer": f"{node.base}{page_path}"})
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.geturl(), html.unescape(answer.read().decode())
        except urllib.error.HTTPError as refused:  # a refused login is a 400 with its form
            return refused.geturl(), html.unescape(refused.read().decode())

    def login(self, node, login: str, password: str) -> tuple[str, str]:
        return self.post(node, "/cabinet/login/", "/cabinet/login/",
                         {"login": login, "password": password})


def test_a_cabinet_session_made_on_one_node_is_a_session_on_the_other(cluster):
    first, second = cluster.nodes
    browser = Browser()
    where, page = browser.login(first, "testlogin", "testpsw")
    assert not where.endswith("/login/") and "BILL0000003" in page
    # Cookies belong to the host, not the port: the browser sends the session to node 2
    # as it would to the balancer's one name.
    url, page = browser.get(f"{second.base}/cabinet/")
    assert url == f"{second.base}/cabinet/" and "BILL0000003" in page
    browser.post(second, "/cabinet/", "/cabinet/logout/", {})
    url, _ = browser.get(f"{first.base}/cabinet/")
    assert url.startswith(f"{first.base}/cabinet/login/")  # logged out on both


def test_failed_logins_count_across_both_nodes(cluster):
    first, second = cluster.nodes
    # cabinet['login.max_failures'] = 5 per login name and address: alternate the nodes.
    for attempt in range(5):
        node = (first, second)[attempt % 2]
        _, page = Browser().login(node, "testlogin", f"wrong-{attempt}")
        assert "Неверный логин или пароль" in page or "Wrong login or password" in page
    for node in (first, second):  # the sixth, on either node, is refused however right
        _, page = Browser().login(node, "testlogin", "testpsw")
        assert "Слишком много неудачных попыток" in page or "Too many failed" in page, page[:3000]
    cluster.sql("DELETE FROM cabinet_auththrottle RETURNING 1")  # the next test logs in


def scheduler(home) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own command, fixed argv
        [sys.executable, "-m", "asr_billing", "scheduler", "--home", str(home)],
        env=clean_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_both_schedulers_at_once_charge_each_subscriber_once(cluster):
    homes = [cluster.home(1), cluster.home(2)]
    for home in homes:  # due at once, whatever the time of day
        cluster.config(home, "billing", "run.time", "00:00")
    today = cluster.sql("SELECT (now() AT TIME ZONE 'Europe/Moscow')::date")[0][0]
    cluster.sql("DELETE FROM billing_billingrun WHERE date = %s RETURNING 1", [today])
    charges_before = cluster.sql("SELECT count(*) FROM finance_operation WHERE type = 1")[0][0]
    # Hold one account's row so the first run is still working when the second starts.
    (blocked,) = cluster.sql("SELECT subscriber_id FROM finance_account ORDER BY 1 "
                             "OFFSET 50 LIMIT 1")[0]
    holder = psycopg.connect(cluster.db_url)
    holder.execute("SELECT 1 FROM finance_account WHERE subscriber_id = %s FOR UPDATE",
                   [blocked])
    outputs = [[], []]
    processes = [scheduler(home) for home in homes]
    readers = [threading.Thread(target=lambda p=p, o=o: o.extend(p.stdout), daemon=True)
               for p, o in zip(processes, outputs, strict=True)]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any(SKIPPED in line for out in outputs for line in out):
            assert time.monotonic() < deadline, outputs
            assert all(p.poll() is None for p in processes), outputs
            time.sleep(0.2)
        holder.rollback()
        while cluster.sql("SELECT count(*) FROM billing_billingrun WHERE date = %s AND "
                          "status = 'done'", [today])[0][0] == 0:
            assert time.monotonic() < deadline, outputs
            time.sleep(0.2)
    finally:
        holder.close()
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    runs = cluster.sql("SELECT id, status, charges_made FROM billing_billingrun "
                       "WHERE date = %s", [today])
    assert len(runs) == 1 and runs[0][1] == "done", runs
    skipped = [line for out in outputs for line in out if SKIPPED in line]
    # The scheduler's line, in app['language'] (Russian by default), names the working run.
    assert len(skipped) == 1, outputs
    assert f"{SKIPPED}: Идёт запуск тарификации №{runs[0][0]} (начат " in skipped[0], skipped
    charges = cluster.sql("SELECT count(*) FROM finance_operation WHERE type = 1")[0][0]
    assert charges - charges_before == runs[0][2]
    # No subscriber has two charges for one tariff period.
    assert cluster.sql("SELECT count(*) FROM (SELECT account_id, tariff_id, service_id, "
                       "period_start FROM finance_operation WHERE type = 1 GROUP BY 1, 2, 3, 4 "
                       "HAVING count(*) > 1) twice") == [(0,)]
