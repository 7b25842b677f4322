"""Failed-login limits (cabinet.login_guard): a guesser slows down himself, not his victim.

Counted per (name, client address), per client address and per name with a growing delay;
the servers of network['api.cabinet_servers'] (127.0.0.1 and ::1 by default: a cabinet
web site beside the billing) pass the subscriber's address as src_ip and are never
counted as one client. The same counters for web_cabinet.login on both APIs, REST v2
check_pass, and (per operator) the admin's login form."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from asr_billing.cabinet.models import AuthThrottle, CabinetSession
from asr_billing.cabinet.throttle import Rule, throttle_admit, throttle_fail, throttle_purge

from .conftest import LOGIN, PASSWORD, db_state

WRONG = {"error": "Неверный логин или пароль"}
LOCKED_15 = {"error": "Too many failed logins. Try again in 15 min."}
WEB = "127.0.0.1"  # a cabinet server by default
ATTACKER, OWNER = "192.0.2.66", "192.0.2.10"


def counters() -> set[tuple[str, str, int]]:
    return set(AuthThrottle.objects.values_list("scope", "key", "failures"))


@pytest.fixture
def direct(config_edit):
    """Direct callers (a subscriber's app calling the API itself) are allowed from the
    documentation networks."""
    config_edit("network", "api.allowed_ips",
                "127.0.0.1 ::1 192.0.2.0/24 198.51.100.0/24 2001:db8::/32")


def login_via(cab, via: str, client: str | None, password: str, name: str = LOGIN):
    """web_cabinet.login by a direct caller (via="direct": from ``client`` itself) or by
    the cabinet server (via="web": from 127.0.0.1, passing ``client`` as src_ip)."""
    if via == "direct":
        return cab("login", {"login": name, "passwd": password}, remote=client)
    arg1 = {"login": name, "passwd": password}
    if client is not None:
        arg1["src_ip"] = client
    return cab("login", arg1, remote=WEB)


# --- Done when: one attacker cannot lock the owner out ----------------------------------------


@pytest.mark.parametrize("via", ["direct", "web"])
def test_100_bad_logins_from_one_ip_then_the_owner_from_another_ip_logs_in(
        cab, world, direct, frozen, via):
    answers = [login_via(cab, via, ATTACKER, f"guess{n}") for n in range(100)]
    # Five are tried; then the pair (name, attacker) is refused without being tried.
    assert answers == [WRONG] * 5 + [LOCKED_15] * 95
    assert counters() == {("login", LOGIN, 5), ("login_ip", f"{LOGIN} {ATTACKER}", 5),
                          ("ip", ATTACKER, 5)}
    # The attacker is refused even with the right password ...
    assert login_via(cab, via, ATTACKER, PASSWORD) == LOCKED_15
    # ... the owner, from another address, logs in at once.
    answer = login_via(cab, via, OWNER, PASSWORD)
    assert len(answer["session_id"]) == 32
    assert CabinetSession.objects.get().src_ip == OWNER


def test_a_refused_attempt_changes_nothing(cab, world, direct, frozen):
    for n in range(5):
        login_via(cab, "direct", ATTACKER, f"guess{n}")
    before = db_state()
    assert login_via(cab, "direct", ATTACKER, PASSWORD) == LOCKED_15
    assert login_via(cab, "direct", ATTACKER, "guess") == LOCKED_15
    assert db_state() == before


def test_the_pair_is_refused_for_lockout_minutes_and_a_success_forgets_it(
        cab, world, direct, frozen):
    for n in range(5):
        login_via(cab, "direct", ATTACKER, f"guess{n}")
    frozen.shift(timedelta(minutes=14))
    assert login_via(cab, "direct", ATTACKER, PASSWORD) == {
        "error": "Too many failed logins. Try again in 1 min."}
    frozen.shift(timedelta(seconds=59))
    assert login_via(cab, "direct", ATTACKER, PASSWORD) == {
        "error": "Too many failed logins. Try again in 1 s."}
    frozen.shift(timedelta(seconds=1))
    assert "session_id" in login_via(cab, "direct", ATTACKER, PASSWORD)
    # The pair's count is gone; the name's and the address's fade by themselves.
    assert counters() == {("login", LOGIN, 5), ("ip", ATTACKER, 5)}


def test_failures_fade_after_lockout_minutes_without_one(cab, world, direct, frozen):
    for n in range(4):
        login_via(cab, "direct", ATTACKER, f"guess{n}")
    frozen.shift(timedelta(minutes=15))
    for n in range(4):
        assert login_via(cab, "direct", ATTACKER, f"again{n}") == WRONG
    assert ("login_ip", f"{LOGIN} {ATTACKER}", 4) in counters()
    assert "session_id" in login_via(cab, "direct", ATTACKER, PASSWORD)


# --- Per address: one address guessing many names ---------------------------------------------


@pytest.mark.parametrize("via", ["direct", "web"])
def test_bad_logins_over_many_names_from_one_ip_slow_that_ip(cab, world, direct, frozen,
                                                             config_edit, via):
    config_edit("cabinet", "login.ip_max_failures", "3")
    for name in ("anna", "boris", "vera"):
        assert login_via(cab, via, ATTACKER, "x", name=name) == WRONG
    assert login_via(cab, via, ATTACKER, PASSWORD) == LOCKED_15
    assert login_via(cab, via, ATTACKER, "x", name="gleb") == LOCKED_15
    assert "session_id" in login_via(cab, via, OWNER, PASSWORD)
    assert ("ip", ATTACKER, 3) in counters()


def test_a_cabinet_server_is_never_throttled_as_one_ip(cab, world, frozen, config_edit):
    config_edit("cabinet", "login.ip_max_failures", "3")
    config_edit("cabinet", "login.max_failures", "3")
    # Many subscribers mistyping through the cabinet web site, which passes no src_ip:
    for name in ("anna", "boris", "vera", "gleb", "dina"):
        for _attempt in range(3):
            assert login_via(cab, "web", None, "x", name=name) == WRONG
    # ... lock neither the site's address nor any name: only the names' delays count.
    assert "session_id" in login_via(cab, "web", None, PASSWORD)
    assert {scope for scope, _key, _n in counters()} == {"login"}
    assert not AuthThrottle.objects.filter(key__contains=WEB).exists()


def test_src_ip_of_a_direct_caller_is_not_believed(cab, world, direct, frozen):
    # A caller outside network['api.cabinet_servers'] cannot choose whom its failures
    # count against: a fresh src_ip on each guess still counts against the caller.
    for n in range(5):
        assert cab("login", {"login": LOGIN, "passwd": "x", "src_ip": f"198.51.100.{n}"},
                   remote=ATTACKER) == WRONG
    assert cab("login", {"login": LOGIN, "passwd": PASSWORD, "src_ip": OWNER},
               remote=ATTACKER) == LOCKED_15
    assert ("login_ip", f"{LOGIN} {ATTACKER}", 5) in counters()
    assert "session_id" in cab("login", {"login": LOGIN, "passwd": PASSWORD}, remote=OWNER)


@pytest.mark.parametrize("src_ip", ["", "not-an-ip", "127.0.0.1", "::1"])
def test_a_cabinet_server_passing_no_usable_src_ip_counts_only_the_name(
        cab, world, frozen, src_ip):
    for _attempt in range(5):
        assert cab("login", {"login": LOGIN, "passwd": "x", "src_ip": src_ip},
                   remote=WEB) == WRONG
    assert counters() == {("login", LOGIN, 5)}


def test_the_servers_list_comes_from_the_config(cab, world, direct, frozen, config_edit):
    config_edit("network", "api.cabinet_servers", "198.51.100.0/24")
    for n in range(5):
        cab("login", {"login": LOGIN, "passwd": "x", "src_ip": ATTACKER},
            remote=f"198.51.100.{n}")
    assert counters() == {("login", LOGIN, 5), ("login_ip", f"{LOGIN} {ATTACKER}", 5),
                          ("ip", ATTACKER, 5)}
    # 127.0.0.1 is no longer one: its own address counts, and its src_ip is not believed.
    cab("login", {"login": LOGIN, "passwd": "x", "src_ip": ATTACKER}, remote=WEB)
    assert ("ip", WEB, 1) in counters()


def test_ipv6_clients_count_per_64(cab, world, direct, frozen, config_edit):
    config_edit("cabinet", "login.ip_max_failures", "3")
    for host in (1, 2, 3):
        assert login_via(cab, "direct", f"2001:db8:1:2::{host}", "x", name=f"n{host}") == WRONG
    assert ("ip", "2001:db8:1:2::/64", 3) in counters()
    assert login_via(cab, "direct", "2001:db8:1:2:ffff::9", PASSWORD) == LOCKED_15
    assert "session_id" in login_via(cab, "direct", "2001:db8:1:3::1", PASSWORD)


# --- Per name: many addresses guessing one name -----------------------------------------------


def test_many_addresses_guessing_one_name_get_a_growing_delay(cab, world, direct, frozen,
                                                              config_edit):
    config_edit("cabinet", "login.max_delay_seconds", "8")
    for n in range(10):  # cabinet['login.delay_after'] = 10 from anywhere
        assert login_via(cab, "direct", f"198.51.100.{n}", "x") == WRONG
    delays = []
    for n in range(5):
        answer = login_via(cab, "direct", OWNER, PASSWORD)
        delays.append(answer["error"])
        seconds = int(answer["error"].split(" in ")[1].split()[0])
        frozen.shift(timedelta(seconds=seconds))
        assert login_via(cab, "direct", f"198.51.100.{20 + n}", "x") == WRONG
    # 1 s after the 10th failure, doubling with each one after it, up to the maximum.
    assert delays == [f"Too many failed logins. Try again in {s} s." for s in (1, 2, 4, 8, 8)]
    frozen.shift(timedelta(seconds=8))
    assert "session_id" in login_via(cab, "direct", OWNER, PASSWORD)
    # The owner's success does not hand the guessers a fresh allowance.
    assert ("login", LOGIN, 15) in counters()
    assert login_via(cab, "direct", "198.51.100.99", "x") == WRONG
    assert login_via(cab, "direct", OWNER, PASSWORD) == {
        "error": "Too many failed logins. Try again in 8 s."}


def test_the_delay_counts_through_a_cabinet_server_without_src_ip(cab, world, frozen):
    for _attempt in range(10):
        assert login_via(cab, "web", None, "x") == WRONG
    assert login_via(cab, "web", None, PASSWORD) == {
        "error": "Too many failed logins. Try again in 1 s."}
    frozen.shift(timedelta(seconds=1))
    assert "session_id" in login_via(cab, "web", None, PASSWORD)


def test_limits_can_be_switched_off(cab, world, direct, frozen, config_edit):
    for key in ("login.max_failures", "login.ip_max_failures", "login.delay_after"):
        config_edit("cabinet", key, "0")
    for n in range(12):
        assert login_via(cab, "direct", ATTACKER, f"guess{n}") == WRONG
    assert not AuthThrottle.objects.exists()
    assert "session_id" in login_via(cab, "direct", ATTACKER, PASSWORD)


def test_switching_a_limit_off_lifts_its_refusals_at_once(cab, world, direct, frozen,
                                                          config_edit):
    for n in range(5):
        login_via(cab, "direct", ATTACKER, f"guess{n}")
    config_edit("cabinet", "login.max_failures", "0")
    assert "session_id" in login_via(cab, "direct", ATTACKER, PASSWORD)


def test_the_admin_unlock_action_lets_the_pair_in(cab, world, direct, frozen, admin_client):
    for n in range(5):
        login_via(cab, "direct", ATTACKER, f"guess{n}")
    pair = AuthThrottle.objects.get(scope="login_ip")
    page = admin_client.get("/admin/cabinet/auththrottle/", {"q": ATTACKER})
    assert f"{LOGIN} {ATTACKER}" in page.content.decode()
    admin_client.post("/admin/cabinet/auththrottle/", {
        "action": "unlock_selected", "_selected_action": [pair.pk]})
    assert "session_id" in login_via(cab, "direct", ATTACKER, PASSWORD)


# --- REST v2: web_cabinet.login and check_pass count the same failures ---------------------------


def rest(client, *steps, remote):
    data = {}
    for number, (method, arg) in enumerate(steps, start=1):
        data[f"method{number}"] = method
        data[f"arg{number}"] = json.dumps(arg)
    response = client.post("/rest_api/v2/Users/", data, REMOTE_ADDR=remote)
    assert response.status_code == 200
    return response.json()


def check_pass(client, password, *, remote, src_ip=None):
    arg = {"passwd": password} if src_ip is None else {"passwd": password, "src_ip": src_ip}
    return rest(client, ("objects.get", {"login": LOGIN}), ("check_pass", arg), remote=remote)


@pytest.mark.parametrize("via", ["direct", "web"])
def test_check_pass_counts_failures_like_the_cabinet_login(client, cab, world, direct,
                                                           frozen, via):
    # CODE C-NETSP AuthController: objects.get {"login"} + check_pass {"passwd"} -> truthy
    remote, src_ip = (ATTACKER, None) if via == "direct" else (WEB, ATTACKER)
    call = "/rest_api/v2/Users/"
    for n in range(5):
        assert check_pass(client, f"guess{n}", remote=remote, src_ip=src_ip) == {
            "call": call, "result": False}
    before = db_state()
    # Refused in REST v2's error envelope (HTTP 200, "error" beside "call", naming the
    # step as every chain error does), not tried.
    assert check_pass(client, PASSWORD, remote=remote, src_ip=src_ip) == {
        "call": call, "error": "method2 check_pass: Too many failed logins. Try again in 15 min."}
    assert db_state() == before
    # One set of counters: the cabinet login from that address is refused too ...
    assert login_via(cab, via, ATTACKER, PASSWORD) == LOCKED_15
    # ... and the owner, elsewhere, is let in by both.
    other = {"remote": OWNER} if via == "direct" else {"remote": WEB, "src_ip": OWNER}
    assert check_pass(client, PASSWORD, **other) == {"call": call, "result": True}
    assert "session_id" in login_via(cab, via, OWNER, PASSWORD)


def test_web_cabinet_login_over_rest_counts_like_the_system_api(client, cab, world, direct,
                                                                frozen):
    # CODE C-LARA CarbonClient::getProfile: web_cabinet.login -> {"result": ["<JSON>"]}
    for n in range(5):
        body = rest(client, ("web_cabinet.login", {"login": LOGIN, "passwd": f"g{n}"}),
                    remote=ATTACKER)
        assert json.loads(body["result"][0]) == WRONG
    body = rest(client, ("web_cabinet.login", {"login": LOGIN, "passwd": PASSWORD}),
                remote=ATTACKER)
    assert json.loads(body["result"][0]) == LOCKED_15
    assert login_via(cab, "direct", ATTACKER, PASSWORD) == LOCKED_15
    body = rest(client, ("web_cabinet.login", {"login": LOGIN, "passwd": PASSWORD}),
                remote=OWNER)
    assert len(json.loads(body["result"][0])["session_id"]) == 32


# --- The admin's login form: the same limits per operator -----------------------------------------


@pytest.fixture
def operator_user(django_user_model):
    return django_user_model.objects.create_user("kassir", password="Kassa-2024!",
                                                 is_staff=True)


def admin_login(client, password, *, remote, username="kassir"):
    return client.post("/admin/login/?next=/admin/",
                       {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=remote)


def test_admin_login_is_limited_per_operator_and_address(client, operator_user, frozen):
    wrong = ("Please enter the correct username and password for a staff account. Note "
             "that both fields may be case-sensitive.")
    for n in range(5):
        page = admin_login(client, f"guess{n}", remote=ATTACKER)
        assert page.status_code == 200 and wrong in page.content.decode()
    assert counters() == {("operator", "kassir", 5),
                          ("operator_ip", f"kassir {ATTACKER}", 5), ("ip", ATTACKER, 5)}
    before = db_state()
    page = admin_login(client, "Kassa-2024!", remote=ATTACKER)
    assert page.status_code == 200
    assert ('<p class="errornote">\n    Too many failed logins. Try again in 15 min.\n</p>'
            in page.content.decode())
    assert db_state() == before and "_auth_user_id" not in client.session
    # The operator, from his own address, logs in at once.
    page = admin_login(client, "Kassa-2024!", remote=OWNER)
    assert (page.status_code, page["Location"]) == (302, "/admin/")
    assert client.session["_auth_user_id"] == str(operator_user.pk)


def test_admin_login_counts_unknown_names_and_non_staff_accounts(client, frozen,
                                                                 django_user_model,
                                                                 config_edit):
    django_user_model.objects.create_user("member", password="Member-2024!")  # not staff
    config_edit("cabinet", "login.ip_max_failures", "3")
    admin_login(client, "x", remote=ATTACKER, username="nosuch")
    admin_login(client, "x", remote=ATTACKER, username="other")
    admin_login(client, "Member-2024!", remote=ATTACKER, username="member")
    assert ("ip", ATTACKER, 3) in counters()
    page = admin_login(client, "x", remote=ATTACKER, username="fourth")
    assert "Too many failed logins. Try again in 15 min." in page.content.decode()


def test_operator_and_subscriber_names_are_counted_apart(client, cab, world, direct, frozen,
                                                         django_user_model):
    django_user_model.objects.create_user(LOGIN, password="Staff-2024!", is_staff=True)
    for n in range(5):
        admin_login(client, f"guess{n}", remote=ATTACKER, username=LOGIN)
    # The operator "testlogin" is refused from there; the subscriber testlogin is not.
    assert "session_id" in login_via(cab, "direct", OWNER, PASSWORD)
    assert "Too many failed logins" in admin_login(client, "Staff-2024!", remote=ATTACKER,
                                                   username=LOGIN).content.decode()


# --- The core: cabinet.throttle ------------------------------------------------------------------


@pytest.mark.parametrize("address, key", [
    ("192.0.2.7", "192.0.2.7"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
    ("", ""),
    (None, ""),
])
def test_ip_keys(address, key):
    from asr_billing.cabinet.throttle import ip_key

    assert ip_key(address) == key


def test_a_long_run_of_failures_keeps_the_delay_at_its_maximum(db, frozen):
    from asr_billing.cabinet.throttle import throttle_wait

    rule = Rule("test", "Some Key", limit=2, delay=timedelta(seconds=1),
                max_delay=timedelta(seconds=60), forget=timedelta(minutes=15))
    now = timezone.now()
    throttle_fail([rule], now=now)
    assert throttle_wait([rule], now=now) is None
    for _n in range(200):  # 2**198 seconds would overflow a timedelta
        throttle_fail([rule, rule], now=now)  # a repeated rule counts once
    row = AuthThrottle.objects.get()
    assert (row.key, row.failures, row.blocked_until) == ("some key", 201,
                                                          now + timedelta(seconds=60))
    assert throttle_wait([rule], now=now) == timedelta(seconds=60)
    assert throttle_wait([Rule("test", "SOME KEY ", 2, rule.delay, rule.max_delay,
                               rule.forget)], now=now) == timedelta(seconds=60)


# --- Counting first, taking back on success (cabinet.throttle.throttle_admit) ----------------


def _rule(limit=3):
    return Rule("test", "k", limit=limit, delay=timedelta(minutes=15),
                max_delay=timedelta(minutes=15), forget=timedelta(minutes=15))


def _row():
    row = AuthThrottle.objects.get(scope="test", key="k")
    return (row.failures, row.last_failure_at, row.blocked_until, row.expires_at)


def test_an_attempt_counts_before_it_is_tried_and_a_success_takes_it_back(db, frozen):
    now = timezone.now()
    admission = throttle_admit([_rule()], now=now)
    assert admission.wait is None
    assert _row() == (1, now, None, now + timedelta(minutes=15))  # counted already
    admission.succeeded()
    assert not AuthThrottle.objects.exists()  # created by the attempt: gone again


def test_a_success_puts_a_counter_back_as_it_was(db, frozen):
    start = timezone.now()
    throttle_fail([_rule()], now=start)
    throttle_fail([_rule()], now=start)
    before = _row()
    later = start + timedelta(minutes=1)
    admission = throttle_admit([_rule()], now=later)
    # The third failure of three would refuse for 15 min: counted in advance ...
    assert _row() == (3, later, later + timedelta(minutes=15), later + timedelta(minutes=15))
    admission.succeeded()
    # ... and a right secret takes it back whole: no refusal, the old last failure.
    assert _row() == before == (2, start, None, start + timedelta(minutes=15))


def test_a_success_leaves_failures_counted_meanwhile(db, frozen):
    now = timezone.now()
    admission = throttle_admit([_rule(limit=5)], now=now)
    throttle_fail([_rule(limit=5)], now=now + timedelta(seconds=1))  # another guess
    admission.succeeded()
    assert _row()[:3] == (1, now + timedelta(seconds=1), None)


def test_a_success_forgets_the_scopes_it_names(db, frozen):
    now = timezone.now()
    for _n in range(2):
        throttle_fail([_rule(limit=5)], now=now)
    throttle_admit([_rule(limit=5)], now=now).succeeded(forget={"test"})
    assert not AuthThrottle.objects.exists()


def test_a_refused_attempt_counts_and_creates_nothing(db, frozen):
    now = timezone.now()
    for _n in range(3):
        throttle_fail([_rule()], now=now)
    other = Rule("test", "other", 3, timedelta(minutes=1), timedelta(minutes=1),
                 timedelta(minutes=1))
    admission = throttle_admit([_rule(), other], now=now)
    assert (admission.wait, admission.advances) == (timedelta(minutes=15), ())
    assert list(AuthThrottle.objects.values_list("key", "failures")) == [("k", 3)]


# --- The purge (the scheduler's housekeeping) ---------------------------------------------------


def test_the_purge_deletes_only_counters_whose_window_has_passed(
        db, frozen, django_assert_num_queries):
    from asr_billing.billing.services import billing_housekeeping

    now = timezone.now()
    short = Rule("test", "faded", 5, timedelta(minutes=1), timedelta(minutes=1),
                 timedelta(minutes=15))
    throttle_fail([short], now=now - timedelta(minutes=15))  # forgotten now
    throttle_fail([dataclasses.replace(short, key="fresh")], now=now - timedelta(minutes=14))
    for _n in range(3):  # refused until now + 1 min, though its failures are old
        throttle_fail([Rule("test", "refused", 3, timedelta(minutes=20),
                            timedelta(minutes=20), timedelta(minutes=1))],
                      now=now - timedelta(minutes=19))
    with django_assert_num_queries(1):
        assert throttle_purge(now=now) == 1
    assert set(AuthThrottle.objects.values_list("key", flat=True)) == {"fresh", "refused"}
    frozen.shift(timedelta(minutes=1))
    assert billing_housekeeping(actor="test")["login_counters_purged"] == 2
    assert not AuthThrottle.objects.exists()
