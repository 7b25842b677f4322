"""Issue 10's "done when", for real: the demo served by ``asr-billing serve``, Debian's
FreeRADIUS running the configuration ``asr-billing radius config --client
127.0.0.1:testing123`` writes, and ``radtest`` / ``radclient`` as the NAS 10.0.0.1.

PAP, CHAP and MS-CHAPv2 accept testlogin / testpsw with its tariff's Mikrotik-Rate-Limit;
wrong passwords, disabled logins and the administrator's block are rejected with their
Reply-Message; the no money policy lets a cut-off subscriber in to its profile or rejects
it, as radius['policy.negbal'] says; IPoE by address; accounting Start / Interim / Stop
moves testlogin in and out of that NAS's users_logged; a repeated Start makes one
session; Accounting-On closes the NAS's sessions; a session silent past
radius['session.stale_after'] is closed by the housekeeping.

One demo and one daemon for the module (starting them takes seconds); each test makes its
own sessions and puts back what it changes.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from asr_billing.network.shaping import mikrotik_rate_limit
from tests.docs.server import DemoServer, clean_env
from tests.live_server import http_get, log_tail, radius_serve, stop_process

from .freeradius import SECRET, FreeRadius, free_udp_ports, require_freeradius

pytestmark = [pytest.mark.radius, pytest.mark.slow]

NAS_IP = "10.0.0.1"  # the demo's MikroTik (demo/story.py: testlogin's NAS)
RATE_COLUMNS = ("rate_in", "ceil_in", "burst_in", "cburst_in",
                "rate_out", "ceil_out", "burst_out", "cburst_out")


def cli(demo: DemoServer, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own command, fixed argv
        [sys.executable, "-m", "asr_billing", *args, "--home", str(demo.home)],
        env=clean_env(demo.home), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module", params=["serve", "radius serve"])
def live(request, tmp_path_factory):
    """FreeRADIUS calling ``asr-billing serve`` (the whole billing), then the same tests
    with it calling ``asr-billing radius serve`` (the RADIUS-only server, granian) on the
    same home; the system API questions go to ``serve`` either way."""
    require_freeradius()
    root = tmp_path_factory.mktemp("radius-live")
    demo = DemoServer(root, workers=2)
    demo.start()
    radius_process = None
    url = demo.base
    try:
        if request.param == "radius serve":
            radius_process, port = radius_serve(demo.home, root / "radius-serve.out")
            url = f"http://127.0.0.1:{port}"
        auth_port, acct_port = free_udp_ports(2)
        folder = root / "raddb"
        cli(demo, "radius", "config", "--out", str(folder), "--client", f"127.0.0.1:{SECRET}",
            "--url", url, "--auth-port", str(auth_port), "--acct-port", str(acct_port),
            "--reject-delay", "0")
        daemon = FreeRadius(folder, auth_port, acct_port)
        try:
            daemon.start()
            yield Live(demo, daemon, root / "radius-serve.out" if radius_process else None)
        finally:
            daemon.stop()
    finally:
        stop_process(radius_process)
        demo.stop()


class Live:
    def __init__(self, demo: DemoServer, daemon: FreeRadius, radius_log: Path | None):
        self.demo = demo
        self.daemon = daemon
        self.radius_log = radius_log  # radius serve's output, when it answers FreeRADIUS

    def server_log(self, chars: int = 20000) -> str:
        """The output of the server FreeRADIUS calls."""
        if self.radius_log is not None:
            return log_tail(self.radius_log, chars)
        return self.demo.log_tail(chars)

    def radtest(self, user: str, password: str, kind: str = "pap",
                nas: str = NAS_IP) -> str:
        done = subprocess.run(  # noqa: S603
            ["radtest", "-t", kind, user, password,  # noqa: S607
             f"127.0.0.1:{self.daemon.auth_port}", "0", SECRET, "0", nas],
            capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    def send(self, kind: str, attributes: str) -> str:
        port = self.daemon.auth_port if kind == "auth" else self.daemon.acct_port
        done = subprocess.run(  # noqa: S603
            ["radclient", "-r", "2", "-t", "3", "-x",  # noqa: S607
             f"127.0.0.1:{port}", kind, SECRET],
            input=attributes, capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    def sql(self, query: str, params=()):
        with sqlite3.connect(self.demo.database, timeout=30) as db:
            return db.execute(query, params).fetchall()

    def users_logged(self, nas: str = NAS_IP) -> list[str]:
        config = self.demo.config.read_text()
        psw = next(line.split("=", 1)[1].strip().strip("'\"")
                   for line in config.splitlines()
                   if line.startswith("network['api.collector.psw']"))
        query = urllib.parse.urlencode({
            "model": "Abonents", "method1": "collector_manager.users_logged",
            "arg1": json.dumps({"nas_ip": nas}), "context": "collector", "psw": psw,
            "format": "json"})
        with urllib.request.urlopen(f"{self.demo.base}/system_api/?{query}",  # noqa: S310
                                    timeout=30) as answer:
            return [row["login"] for row in json.loads(answer.read())]


def expected_rate_limit(live: Live, login: str) -> str:
    columns = ", ".join(f"t.{c}" for c in RATE_COLUMNS)
    [row] = live.sql(
        f"select {columns} from network_login l join subscribers_subscriber s"  # noqa: S608
        " on s.id = l.subscriber_id join tariffs_tariff t on t.id = s.tariff_id"
        " where l.login = ?", (login,))
    return mikrotik_rate_limit(type("T", (), dict(zip(RATE_COLUMNS, row, strict=True)))())


@pytest.mark.parametrize("kind", ["pap", "chap", "mschap"])
def test_testlogin_is_accepted_with_its_tariffs_rates(live, kind):
    out = live.radtest("testlogin", "testpsw", kind)
    assert "Received Access-Accept" in out, out + live.daemon.log_tail()
    rate = expected_rate_limit(live, "testlogin")
    assert rate  # the demo's tariff is shaped
    assert f'Mikrotik-Rate-Limit = "{rate}"' in out
    assert "Acct-Interim-Interval = 300" in out
    assert "Class = 0x" in out


@pytest.mark.parametrize("kind", ["pap", "chap", "mschap"])
def test_a_wrong_password_is_rejected(live, kind):
    out = live.radtest("testlogin", "wrong-password", kind)
    assert "Received Access-Reject" in out, out
    assert "Mikrotik-Rate-Limit" not in out


def test_unknown_long_and_odd_logins_are_rejected_never_a_failure(live):
    for name in ('no\\"body', "абонент", "x" * 250):  # as radclient's input escapes it
        out = live.send("auth", f'User-Name = "{name}"\nUser-Password = "testpsw"\n'
                                f"NAS-IP-Address = {NAS_IP}\n")
        assert "Received Access-Reject" in out, out
        assert 'Reply-Message = "Wrong login or password."' in out
    assert "Traceback" not in live.server_log()


def login_state(live, login):
    return live.sql("select l.enabled, s.negbal, s.admin_blocked from network_login l"
                    " join subscribers_subscriber s on s.id = l.subscriber_id"
                    " where l.login = ?", (login,))[0]


def set_state(live, login, *, enabled=None, negbal=None, admin_blocked=None):
    # Straight in the database: the decision reads these flags on every request.
    with sqlite3.connect(live.demo.database, timeout=30) as db:
        if enabled is not None:
            db.execute("update network_login set enabled = ? where login = ?",
                       (int(enabled), login))
        for column, value in (("negbal", negbal), ("admin_blocked", admin_blocked)):
            if value is not None:
                db.execute(f"update subscribers_subscriber set {column} = ? where id ="  # noqa: S608
                           " (select subscriber_id from network_login where login = ?)",
                           (int(value), login))


def test_disabled_login_and_admin_block_are_rejected(live):
    before = login_state(live, "testlogin")
    try:
        set_state(live, "testlogin", enabled=False)
        out = live.radtest("testlogin", "testpsw")
        assert "Received Access-Reject" in out
        assert 'Reply-Message = "This login is disabled."' in out
        set_state(live, "testlogin", enabled=True, admin_blocked=True)
        out = live.radtest("testlogin", "testpsw", "chap")
        assert "Received Access-Reject" in out
        assert "Your account is blocked" in out
    finally:
        set_state(live, "testlogin", enabled=before[0], negbal=before[1],
                  admin_blocked=before[2])


def test_no_money_policy_both_ways(live):
    before = login_state(live, "testlogin")
    try:
        set_state(live, "testlogin", negbal=True)
        out = live.radtest("testlogin", "testpsw")  # default: redirect
        assert "Received Access-Accept" in out, out
        assert 'Mikrotik-Address-List = "negbal"' in out
        assert 'Mikrotik-Rate-Limit = "256k/256k"' in out
        cli(live.demo, "config", "set", "radius", "policy.negbal", "reject")
        out = live.radtest("testlogin", "testpsw")
        assert "Received Access-Reject" in out, out
        assert "Not enough money" in out
        set_state(live, "testlogin", negbal=False)  # paid: full service on the next request
        out = live.radtest("testlogin", "testpsw")
        assert "Received Access-Accept" in out
        assert "Mikrotik-Address-List" not in out
    finally:
        cli(live.demo, "config", "set", "radius", "policy.negbal", "redirect")
        set_state(live, "testlogin", enabled=before[0], negbal=before[1],
                  admin_blocked=before[2])


def test_ipoe_by_address(live):
    [(ip,)] = live.sql("select ip from network_login where login = 'testlogin'")
    out = live.send("auth", f"User-Name = \"{ip}\"\nFramed-IP-Address = {ip}\n"
                            f"NAS-IP-Address = {NAS_IP}\n")
    assert "Received Access-Accept" in out, out + live.daemon.log_tail()
    assert "Mikrotik-Rate-Limit" in out


def accounting(status: str, session: str, **more) -> str:
    lines = [f"Acct-Status-Type = {status}", 'User-Name = "testlogin"',
             f'Acct-Session-Id = "{session}"', f"NAS-IP-Address = {NAS_IP}"]
    lines += [f"{name.replace('_', '-')} = {value}" for name, value in more.items()]
    return "\n".join(lines) + "\n"


def open_sessions(live, session: str) -> list[tuple]:
    return live.sql("select input_octets, output_octets, terminate_cause, stopped_at is null"
                    " from network_onlinesession where acct_session_id = ?", (session,))


def offline(live) -> None:
    """testlogin with no open session (the demo starts it online)."""
    with sqlite3.connect(live.demo.database, timeout=30) as db:
        db.execute("update network_onlinesession set stopped_at = datetime('now'),"
                   " terminate_cause = 'User-Request' where stopped_at is null and login_id ="
                   " (select id from network_login where login = 'testlogin')")
    assert "testlogin" not in live.users_logged()


def test_start_interim_stop_move_testlogin_in_and_out_of_users_logged(live):
    offline(live)
    out = live.send("acct", accounting("Start", "live-1", Framed_IP_Address="10.20.30.41"))
    assert "Received Accounting-Response" in out, out + live.daemon.log_tail()
    assert "testlogin" in live.users_logged()
    live.send("acct", accounting("Start", "live-1", Framed_IP_Address="10.20.30.41"))
    assert len(open_sessions(live, "live-1")) == 1  # a repeated Start: one session
    out = live.send("acct", accounting("Interim-Update", "live-1", Acct_Input_Octets=5,
                                       Acct_Input_Gigawords=1, Acct_Output_Octets=70,
                                       Acct_Session_Time=300))
    assert "Received Accounting-Response" in out
    assert open_sessions(live, "live-1") == [(2**32 + 5, 70, "", 1)]
    out = live.send("acct", accounting("Stop", "live-1", Acct_Terminate_Cause="User-Request",
                                       Acct_Input_Octets=9, Acct_Output_Octets=90))
    assert "Received Accounting-Response" in out
    assert open_sessions(live, "live-1") == [(2**32 + 5, 90, "User-Request", 0)]
    assert "testlogin" not in live.users_logged()


def test_accounting_on_closes_the_nas_sessions(live):
    offline(live)
    live.send("acct", accounting("Start", "live-2"))
    assert "testlogin" in live.users_logged()
    out = live.send("acct", f"Acct-Status-Type = Accounting-On\nNAS-IP-Address = {NAS_IP}\n")
    assert "Received Accounting-Response" in out
    assert open_sessions(live, "live-2")[0][2:] == ("NAS-Reboot", 0)
    assert "testlogin" not in live.users_logged()


def test_a_stale_session_is_closed_by_the_housekeeping(live):
    offline(live)
    live.send("acct", accounting("Start", "live-3"))
    with sqlite3.connect(live.demo.database, timeout=30) as db:
        db.execute("update network_onlinesession set updated_at = datetime('now', '-2 hours')"
                   " where acct_session_id = 'live-3'")
    cli(live.demo, "manage", "billing_housekeeping")
    assert open_sessions(live, "live-3")[0][2:] == ("Stale", 0)
    assert "testlogin" not in live.users_logged()


def test_demo_nas_is_a_mikrotik_with_a_secret(live):
    [(kind, secret)] = live.sql("select nas_type, radius_secret_enc from network_nas"
                                " where ip = ?", (NAS_IP,))
    assert kind == "mikrotik"
    assert secret


def test_the_daemon_is_ours(live):
    # The FreeRADIUS answering is the one on our high ports, not a packaged one on 1812.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(OSError):
        sock.bind(("127.0.0.1", live.daemon.auth_port))


def test_the_main_servers_metrics_count_freeradius_calls(live):
    """/metrics of ``serve`` adds the counters of ``radius serve`` on the same home."""
    assert "Received Access-Accept" in live.radtest("testlogin", "testpsw")
    status, text = http_get(live.demo.port, "/metrics")
    assert status == 200, text
    # radius serve's counters carry server="radius": each server restarts its own.
    server = 'server="radius",' if live.radius_log is not None else ""
    labels = f'group="radius",method="POST",{server}status="200"'
    assert re.search(r"^asr_http_requests_total\{" + re.escape(labels) + r"\} [1-9]", text,
                     re.MULTILINE), text
