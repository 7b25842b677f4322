"""The ``asr-billing`` command, run as a subprocess against temporary home folders.

One home is initialised per module (``init`` runs the migrations: a couple of seconds);
tests that change it work on a copy.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from asr_billing.core.config import ConfigFile

# In-process calls (the parser) are compared in English; the homes below are English too,
# except where a test is about the default, Russian.
pytestmark = pytest.mark.usefixtures("english")

BIN = Path(sys.executable).with_name("asr-billing")
MALFORMED = "expected section['key']='value', a # comment or a blank line"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an operator's shell: no test settings, no home unless given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ASR_BILLING_HOME", "DJANGO_SETTINGS_MODULE", "ASR_BILLING_TEST_DB_URL")}
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "asr_billing"]
    return subprocess.run(  # noqa: S603 - our own command, fixed argv, no shell
        [*command, *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        input=stdin,
        timeout=300,
        check=False,
    )


def ok(*args: str, **kwargs) -> str:
    result = run(*args, **kwargs)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    out = ok("init", "--home", str(home), "--language", "en")
    assert out == f"Created home folder {home}\n"
    return home


@pytest.fixture
def home(initialised, tmp_path) -> Path:
    """A private copy of the initialised home (database included)."""
    copy = tmp_path / "home"
    shutil.copytree(initialised, copy)
    return copy


def test_init_creates_the_home_folder(initialised):
    home = initialised
    config = ConfigFile.load(home / "cfg" / "config")
    assert config.get("app", "db.url") == ""
    assert config.get("app", "language") == "en"  # --language
    passwords = {k: v for (s, k), v in config.values().items() if k.endswith(".psw")}
    assert len(passwords) == 7
    assert len(set(passwords.values())) == 7  # random, one per context
    assert mode(home / "cfg") == 0o700
    for name in ("config", "django_secret.key", "login_password.key"):
        assert mode(home / "cfg" / name) == 0o600, name
    assert (home / "var" / "log" / "django").is_dir()
    database = home / "var" / "billing.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 10
        assert db.execute("SELECT count(*) FROM subscribers_attribute").fetchone()[0] >= 4


def test_init_twice_keeps_keys_and_config(home):
    cfg = home / "cfg"
    before = {p.name: p.read_bytes() for p in cfg.iterdir()}
    # ASR_BILLING_HOME instead of --home, and the option after the command.
    out = ok("init", env=clean_env(ASR_BILLING_HOME=str(home)))
    assert out == f"Using home folder {home}\n"
    assert {p.name: p.read_bytes() for p in cfg.iterdir()} == before


def test_init_refuses_a_bad_db_url(tmp_path):
    result = run("init", "--home", str(tmp_path / "h"), "--db-url", "mysql://x",
                 "--language", "en")
    assert result.returncode != 0
    assert "--db-url must be empty (SQLite in var/) or postgresql://" in result.stderr
    assert not (tmp_path / "h").exists()


def test_init_where_no_folder_can_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run("init", "--home", str(blocker), "--language", "en")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot create the home folder {blocker}: "
        f"[Errno 20] Not a directory: '{blocker}/cfg'\n"
    )


@pytest.mark.parametrize("args", [
    ["serve", "--workers", "0"],  # gunicorn would start and serve nothing
    ["serve", "--workers", "-1"],
    ["bill", "run", "--batch-size", "0"],
])
def test_counts_below_one_are_refused_by_the_parser(args, capsys):
    from asr_billing.cli import _parser

    with pytest.raises(SystemExit) as info:
        _parser().parse_args(args)
    assert info.value.code == 2
    assert "must be a whole number of at least 1" in capsys.readouterr().err


def test_no_home_is_a_clear_error(tmp_path):
    for args in (["init"], ["config", "show"], ["check"], ["manage", "showmigrations"]):
        result = run(*args)
        assert result.returncode == 2, args
        # No home, no app['language'] to follow: the default, Russian.
        assert result.stderr == (
            "ошибка: не задана домашняя папка: укажите --home DIR или задайте ASR_BILLING_HOME "
            "(создать её: `asr-billing init --home DIR`)\n"
        )
    result = run("check", "--home", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"ошибка: {tmp_path} — не домашняя папка (нет cfg/config): выполните "
        "`asr-billing init`\n"
    )


# -- config ----------------------------------------------------------------------------------


def test_config_show_masks_passwords_unless_revealed(home):
    config = ConfigFile.load(home / "cfg" / "config")
    web = config.get("network", "api.web.psw")
    config.set("app", "db.url", "postgresql://billing:topsecret@db.example:5432/billing")
    config.set("app", "company", "it's «ours»")
    config.save()
    out = ok("--home", str(home), "config", "show")
    assert "network['api.web.psw']='***'\n" in out
    assert web not in out
    assert "topsecret" not in out
    assert "app['db.url']='postgresql://billing:***@db.example:5432/billing'\n" in out
    assert "app['time_zone']='Europe/Moscow'\n" in out
    assert "app['currency']='RUB'\n" in out
    assert "app['company']='it'\\''s «ours»'\n" in out
    revealed = ok("config", "show", "--reveal", "--home", str(home))
    assert f"network['api.web.psw']='{web}'\n" in revealed
    assert "topsecret" in revealed


def test_config_show_masks_the_smtp_password_and_the_rest_key(home):
    config = ConfigFile.load(home / "cfg" / "config")
    config.set("cabinet", "email.smtp_url", "smtps://mailer:mail%40secret@mail.example:465")
    config.set("network", "api.rest.key", "RestKey-0123456789abcdef")
    config.save()
    out = ok("config", "show", "--home", str(home))
    assert "mail%40secret" not in out
    assert "RestKey-0123456789abcdef" not in out
    assert "cabinet['email.smtp_url']='smtps://mailer:***@mail.example:465'\n" in out
    assert "network['api.rest.key']='***'\n" in out
    revealed = ok("config", "show", "--reveal", "--home", str(home))
    assert "mail%40secret" in revealed and "RestKey-0123456789abcdef" in revealed


def test_config_show_marks_defaults(home):
    path = home / "cfg" / "config"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("app['currency']='RUB'\n", ""), encoding="utf-8")
    out = ok("config", "show", "--home", str(home))
    assert "app['currency']='RUB'   # default\n" in out


def test_config_get_and_set(home):
    path = home / "cfg" / "config"
    before = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert ok("config", "get", "app", "language", "--home", str(home)) == "en\n"
    assert ok("config", "set", "app", "language", "ru", "--home", str(home)) == ""
    assert ok("config", "get", "app", "language", "--home", str(home)) == "ru\n"
    after = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert [(b, a) for b, a in zip(before, after, strict=True) if b != a] == [
        ("app['language']='en'\n", "app['language']='ru'\n")
    ]
    assert mode(path) == 0o600
    ok("config", "set", "network", "api.allowed_ips", "127.0.0.1 ::1 10.0.0.0/8",
       "--home", str(home))
    assert ok("config", "get", "network", "api.allowed_ips", "--home", str(home)) == (
        "127.0.0.1 ::1 10.0.0.0/8\n"
    )
    result = run("config", "get", "app", "nothing", "--home", str(home))
    assert (result.returncode, result.stderr) == (1, "ошибка: app['nothing'] не задан\n")
    ok("config", "set", "app", "language", "en", "--home", str(home))
    result = run("config", "get", "app", "nothing", "--home", str(home))
    assert (result.returncode, result.stderr) == (1, "error: app['nothing'] is not set\n")


def test_config_set_refuses_a_bad_value_and_leaves_the_file_alone(home):
    path = home / "cfg" / "config"
    data = path.read_bytes()
    lineno = next(i for i, line in enumerate(data.decode().splitlines(), start=1)
                  if line.startswith("app['django.loglevel']"))
    result = run("config", "set", "app", "django.loglevel", "loud", "--home", str(home))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {path}:{lineno}: app['django.loglevel']: must be one of debug, info, "
        "warning, error, critical, not 'loud'\n"
    )
    result = run("config", "set", "network", "api.allowed_ips", "10.0.0.0/33",
                 "--home", str(home))
    assert result.returncode == 2
    assert "'10.0.0.0/33' is not an IP address or CIDR network" in result.stderr
    assert path.read_bytes() == data


def test_a_malformed_line_stops_every_command_naming_file_and_line(home):
    path = home / "cfg" / "config"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, "app['language']='ru\n")
    path.write_text("".join(lines), encoding="utf-8")
    expected = f"error: {path}:4: unterminated single quote\n"
    for args in (
        ["config", "show"],
        ["config", "get", "app", "language"],
        ["config", "set", "app", "language", "en"],
        ["check"],
        ["createadmin", "--username", "boss", "--password", "Correct-Horse-9"],
        ["manage", "showmigrations"],
        ["init"],
    ):
        result = run(*args, "--home", str(home))
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr == expected, args
    assert path.read_text(encoding="utf-8") == "".join(lines)


# -- check, createadmin, manage ------------------------------------------------------------------


SEED = """
from decimal import Decimal
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Group
from asr_billing.subscribers.services import subscriber_create
group = Group.objects.create(name="Test")
for name, amount in [("Иванов", "100.10"), ("Петров", "0.20")]:
    s = subscriber_create(name=name, group=group, actor="cli-test")
    payment_register(subscriber=s, amount=Decimal(amount), actor="cli-test")
"""


def test_check_passes_and_then_names_a_tampered_balance(home):
    ok("manage", "shell", "-c", SEED, "--home", str(home))
    assert ok("check", "--home", str(home)) == (
        "OK: 2 accounts, every balance equals the sum of its operations\n"
    )
    with sqlite3.connect(home / "var" / "billing.sqlite3") as db:
        db.execute("UPDATE finance_account SET balance = 999.1 WHERE subscriber_id = 2")
    result = run("check", "--home", str(home))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "MISMATCH subscriber 2 (BILL0000002): balance 999.10, operations sum 0.20, "
        "difference 998.90\n"
        "error: 1 of 2 accounts do not match the ledger\n"
    )


def test_createadmin(home):
    args = ("createadmin", "--home", str(home))
    out = ok(*args, "--username", "boss", "--email", "boss@isp.example",
             "--password", "Correct-Horse-9")
    assert out == "created administrator boss\n"
    with sqlite3.connect(home / "var" / "billing.sqlite3") as db:
        rows = db.execute("SELECT username, email, is_superuser, is_staff, password "
                          "FROM auth_user").fetchall()
    assert [row[:4] for row in rows] == [("boss", "boss@isp.example", 1, 1)]
    assert "Correct-Horse-9" not in rows[0][4]

    for extra, message in [
        (["--username", "boss", "--password", "Another-Horse-9"], "user 'boss' exists already"),
        (["--username", "  ", "--password", "Another-Horse-9"], "--username cannot be empty"),
        (["--username", "weak", "--password", "123"], None),
        (["--username", "empty", "--password", ""], None),
    ]:
        result = run(*args, *extra)
        assert result.returncode == 1, extra
        assert result.stderr.startswith("error: "), result.stderr
        if message:
            assert result.stderr == f"error: {message}\n"
    with sqlite3.connect(home / "var" / "billing.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM auth_user").fetchone() == (1,)


def test_createadmin_refuses_bad_names_and_a_closed_terminal(home):
    args = ("createadmin", "--home", str(home))
    ok("config", "set", "app", "language", "en", "--home", str(home))  # Django's own texts
    for extra, message in [
        (["--username", "bad name!"], "--username: Enter a valid username. This value may "
         "contain only letters, numbers, and @/./+/-/_ characters."),
        (["--username", "x" * 151], "--username is longer than 150 characters"),
        (["--username", "boss", "--email", "not-an-address"],
         "--email: Enter a valid email address."),
    ]:
        result = run(*args, *extra, "--password", "Correct-Horse-9")
        assert (result.returncode, result.stderr) == (1, f"error: {message}\n"), extra
    # No terminal to ask the password on (stdin at its end): an error, not a traceback.
    result = run(*args, "--username", "boss", stdin="")
    assert result.returncode == 1
    assert result.stderr.endswith(  # after getpass's prompt and warnings
        "error: no password given (--password, or type it on a terminal)\n"
    )
    assert "Traceback" not in result.stderr
    with sqlite3.connect(home / "var" / "billing.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM auth_user").fetchone() == (0,)


def test_manage_passes_through(initialised):
    out = ok("manage", "showmigrations", "finance", "--home", str(initialised))
    assert out.startswith("finance\n [X] 0001_initial\n")
    result = run("--home", str(initialised), "manage", "nosuchcommand")
    assert result.returncode == 1
    assert "Unknown command: 'nosuchcommand'" in result.stderr


def test_config_set_refuses_an_unknown_key_unless_forced(home):
    config = home / "cfg" / "config"
    before = config.read_bytes()
    done = run("config", "set", "network", "api.alowed_ips", "10.0.0.1", "--home", str(home))
    assert done.returncode == 2
    assert "did you mean network['api.allowed_ips']?" in done.stderr
    assert "Traceback" not in done.stderr
    assert config.read_bytes() == before
    ok("config", "set", "custom", "note", "x", "--force", "--home", str(home))
    assert "custom['note']='x'" in config.read_text()
    ok("config", "unset", "custom", "note", "--force", "--home", str(home))
    assert config.read_bytes() == before


def test_a_read_replica_needs_postgresql(home):
    config = home / "cfg" / "config"
    before = config.read_bytes()
    done = run("config", "set", "app", "db.replica_url", "postgresql://r@10.0.0.9/billing",
               "--home", str(home))
    assert done.returncode == 2 and "needs PostgreSQL in app['db.url']" in done.stderr
    assert config.read_bytes() == before
    # Written by hand anyway: the billing does not start, and says why in one line.
    config.write_text(config.read_text() + "app['db.replica_url']='postgresql://r@10.0.0.9/b'\n")
    done = run("check", "--home", str(home))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "needs PostgreSQL in app['db.url']" in done.stderr and "Traceback" not in done.stderr


def test_config_unset_brings_the_default_back(home):
    ok("config", "set", "app", "language", "en", "--home", str(home))
    out = ok("config", "unset", "app", "language", "--home", str(home))
    assert "default: 'ru'" in out
    assert ok("config", "get", "app", "language", "--home", str(home)).strip() == "ru"


def test_config_show_masks_only_secrets(home):
    ok("config", "set", "radius", "api.token", "radius-token-0123456789", "--home", str(home))
    shown = ok("config", "show", "--home", str(home))
    assert "radius['api.token']='***'" in shown
    assert "cabinet['reset.token_minutes']='60'" in shown
    assert "network['api.legacy_rest.key_ttl']='60'" in shown


def test_serve_refuses_a_busy_port_in_one_line(home):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", "--home", str(home), "--bind", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: cannot listen on 127.0.0.1:{port}: "
                                   "Address already in use")
    assert "asr-billing on" not in done.stdout


def test_radius_serve_refuses_a_busy_port_and_changes_nothing(home):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        kept = radius_counters(home, f"127.0.0.1:{port}")
        done = run("radius", "serve", "--home", str(home), "--bind", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: cannot listen on 127.0.0.1:{port}: "
                                   "Address already in use")
    assert "RADIUS endpoints on" not in done.stdout
    assert kept.read_bytes() == b"counts"  # a running one's counters are not emptied


def radius_counters(home: Path, bind: str) -> Path:
    """A counters file of a radius serve said to be running on BIND."""
    folder = home / "var" / "metrics-radius" / bind.replace(":", "_")
    folder.mkdir(parents=True)
    (folder / "counter_1.db").write_bytes(b"counts")
    return folder / "counter_1.db"


def test_radius_serve_refuses_a_broken_config_and_changes_nothing(home):
    from tests.live_server import free_port

    bind = f"127.0.0.1:{free_port()}"
    kept = radius_counters(home, bind)
    with open(home / "cfg" / "config", "a", encoding="utf-8") as config:
        config.write("radius['policy.negbal']='maybe'\n")
    done = run("radius", "serve", "--home", str(home), "--bind", bind)
    assert done.returncode == 2
    assert "radius['policy.negbal']" in done.stderr and "maybe" in done.stderr
    assert "Traceback" not in done.stderr
    assert kept.read_bytes() == b"counts"


def test_radius_serve_waits_for_serve_to_migrate(home):
    from tests.live_server import free_port

    bind = f"127.0.0.1:{free_port()}"
    kept = radius_counters(home, bind)
    with sqlite3.connect(home / "var" / "billing.sqlite3") as db:  # as before an upgrade
        db.execute("delete from django_migrations where app = 'network' and name = "
                   "(select max(name) from django_migrations where app = 'network')")
    done = run("radius", "serve", "--home", str(home), "--bind", bind)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: the database has 1 migration to apply: start "
                                   "asr-billing serve first (it applies it)")
    assert kept.read_bytes() == b"counts"


@pytest.mark.parametrize("option, value", [("--workers", "0"), ("--threads", "-1"),
                                           ("--bind", "nonsense")])
def test_radius_serve_refuses_bad_options(home, option, value):
    done = run("radius", "serve", "--home", str(home), option, value)
    assert done.returncode == 2
    assert f"argument {option}" in done.stderr
    assert not (home / "var" / "metrics-radius").exists()


@pytest.mark.parametrize("text, bind", [("18104", "127.0.0.1:18104"),
                                        ("0.0.0.0:8082", "0.0.0.0:8082"),
                                        ("[::1]:8082", "[::1]:8082")])
def test_a_bare_port_means_loopback(text, bind):
    from asr_billing.cli import _bind_address

    assert _bind_address(text) == bind


@pytest.mark.parametrize("text", ["nonsense", "host:", ":80", "127.0.0.1:70000", "0"])
def test_a_bad_bind_is_refused(text):
    import argparse

    from asr_billing.cli import _bind_address

    with pytest.raises(argparse.ArgumentTypeError):
        _bind_address(text)


def test_no_traceback_on_the_terminal_for_a_broken_database(home):
    (home / "var" / "billing.sqlite3").write_bytes(b"not a database at all" * 100)
    for f in home.glob("var/billing.sqlite3-*"):
        f.unlink()
    done = run("check", "--home", str(home))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the database: file is not a database (details in ")
    log = (home / "var" / "log" / "django" / "error.log").read_text()
    assert "Traceback" in log and "asr-billing check failed" in log
