"""The ``asr-billing`` command.

Every subcommand takes ``--home DIR`` (or ``$ASR_BILLING_HOME``). ``init`` and ``config``
work on files before Django starts; the rest start Django and run a management command,
so tests can call the same code with ``call_command``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from asr_billing.api.cli import add_apikey_parser, run_apikey
from asr_billing.carbon_import.cli import add_import_parser, run_import
from asr_billing.core.cli_text import gettext as _
from asr_billing.core.cli_text import language_of, use_language
from asr_billing.core.config import SCHEMA, ConfigError, ConfigFile, quote
from asr_billing.finance.reconcile_cli import add_reconcile_parser, run_reconcile
from asr_billing.home import HOME_ENV, Home, HomeError, resolve_home
from asr_billing.radius.config_cli import add_radius_parser, run_radius

DEFAULT_BIND = "127.0.0.1:8082"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
DEMO_ADMIN = ("admin", "admin")


def _take_home_option(args: list[str]) -> tuple[str | None, list[str]]:
    """``manage`` hands everything after it to Django, which has no --home: take
    ``--home DIR`` / ``--home=DIR`` out so it works there as on every other command."""
    home, rest = None, []
    items = iter(args)
    for item in items:
        if item == "--home":
            home = next(items, "")
        elif item.startswith("--home="):
            home = item.split("=", 1)[1]
        else:
            rest.append(item)
    return home, rest


def _positive(text: str) -> int:
    """argparse type of counts: workers, batch sizes (0 workers would serve nothing)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            _("must be a whole number of at least 1, not %(text)r") % {"text": text})
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        default=argparse.SUPPRESS,
        help=_("home folder of the installation (default: $%(env)s)") % {"env": HOME_ENV},
    )
    parser = argparse.ArgumentParser(
        prog="asr-billing", parents=[common], description=_("asr-billing ISP billing")
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", parents=[common], help=_("create a home folder and its database"))
    p.add_argument("--demo", action="store_true",
                   help=_("fill it with demo data and a demo admin"))
    p.add_argument(
        "--db-url", default="", help=_("PostgreSQL URL for app['db.url'] (default: SQLite)")
    )
    p.add_argument("--language", choices=LANGUAGES, default="",
                   help=_("app['language'] of a new home: the language of the admin, the "
                          "cabinet and these messages (default: ru)"))

    p = sub.add_parser("serve", parents=[common], help=_("run the web server (gunicorn)"))
    p.add_argument("--bind", default=DEFAULT_BIND, type=_bind_address,
                   help=_("address:port, or a port for 127.0.0.1 (default %(bind)s)")
                   % {"bind": DEFAULT_BIND})
    p.add_argument("--workers", type=_positive, default=2,
                   help=_("worker processes (default 2)"))
    p.add_argument(
        "--threads",
        type=_positive,
        default=1,
        help=_("threads per worker (default 1: sync workers; more: gthread workers with "
               "keep-alive)"),
    )
    p.add_argument("--no-migrate", action="store_true", help=_("do not apply pending migrations"))

    p = sub.add_parser("demo", parents=[common], help=_("add demo data to an existing home"))
    p.add_argument(
        "--subscribers",
        type=int,
        default=None,
        help=_("generate N extra bulk subscribers for benchmarks (default: the "
               "260-subscriber demo)"),
    )

    p = sub.add_parser("config", parents=[common], help=_("show, get or set cfg/config values"))
    csub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = csub.add_parser("show", parents=[common], help=_("print every setting in force"))
    show.add_argument("--reveal", action="store_true",
                      help=_("print passwords instead of ***"))
    get = csub.add_parser("get", parents=[common], help=_("print one value"))
    get.add_argument("section")
    get.add_argument("key")
    setp = csub.add_parser("set", parents=[common],
                           help=_("change one value, keep everything else"))
    setp.add_argument("section")
    setp.add_argument("key")
    setp.add_argument("value")
    setp.add_argument("--force", action="store_true",
                      help=_("write a key asr-billing does not know (a typo is refused "
                             "without)"))
    unsetp = csub.add_parser("unset", parents=[common],
                             help=_("remove a key's lines: its default applies again"))
    unsetp.add_argument("section")
    unsetp.add_argument("key")
    unsetp.add_argument("--force", action="store_true",
                        help=_("remove a key asr-billing does not know"))

    sub.add_parser("check", parents=[common], help=_("prove balance == sum(operations) everywhere"))

    p = sub.add_parser("backup", parents=[common],
                       help=_("the database, cfg/config and the keys in one archive"))
    p.add_argument("--out", type=Path, default=None,
                   help=_("the archive to write (default: "
                          "HOME/var/backups/asr-billing-<time>.tar.gz)"))
    p = sub.add_parser("restore", parents=[common],
                       help=_("unpack a backup into a new or empty --home, then check it"))
    p.add_argument("archive", type=Path)
    p.add_argument("--db-url", default="",
                   help=_("an empty PostgreSQL database for a PostgreSQL backup"))

    p = sub.add_parser("bill", parents=[common], help=_("charging runs (docs/billing.md)"))
    bsub = p.add_subparsers(dest="bill_command", required=True, metavar="ACTION")
    run = bsub.add_parser("run", parents=[common], help=_("charge everything due up to a date"))
    run.add_argument("--date", help=_("YYYY-MM-DD (default: today in app['time_zone'])"))
    run.add_argument("--batch-size", type=_positive, default=10000,
                     help=_("subscribers per transaction"))

    p = sub.add_parser("payments", parents=[common],
                       help=_("payment registries (docs/payments.md)"))
    psub = p.add_subparsers(dest="payments_command", required=True, metavar="ACTION")
    add_reconcile_parser(psub, common)

    add_radius_parser(sub, common, default_url=DEFAULT_BIND, bind_type=_bind_address,
                      count_type=_positive)
    add_apikey_parser(sub, common)
    add_import_parser(sub, common)

    sub.add_parser(
        "scheduler", parents=[common],
        help=_("daily charging and frequent expiries, until stopped")
    )

    p = sub.add_parser("createadmin", parents=[common], help=_("create an operator (superuser)"))
    p.add_argument("--username", required=True)
    p.add_argument("--email", default="")
    p.add_argument("--password", help=_("default: asked on the terminal"))

    p = sub.add_parser("manage", parents=[common], help=_("run a Django management command"))
    p.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _language_for(argv: list[str]) -> str:
    """app['language'] of the home the command names (--home anywhere in the line, else
    $ASR_BILLING_HOME) — known before the arguments are parsed, so that argparse's help
    and errors are in it too. A home that does not exist yet: ``init --language``."""
    home, rest = _take_home_option(argv)
    if rest[:1] == ["init"]:
        for index, item in enumerate(rest):
            if item == "--language" and index + 1 < len(rest):
                return rest[index + 1]
            if item.startswith("--language="):
                return item.split("=", 1)[1]
    raw = home if home is not None else os.environ.get(HOME_ENV, "")
    if not str(raw).strip():
        return DEFAULT_LANGUAGE
    return language_of(Path(raw).expanduser() / "cfg" / "config")


def _home(args) -> Home:
    if getattr(args, "command", None) == "manage":
        home, args.args = _take_home_option(args.args)
        if home is not None:
            args.home = home
    return resolve_home(getattr(args, "home", None))


def _start_django(home: Home) -> None:
    os.environ[HOME_ENV] = str(home.root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asr_billing.settings")
    import django

    django.setup()


def _require_home(home: Home) -> None:
    if not home.exists():
        raise HomeError(_("%(home)s is not a home folder (no cfg/config): run `asr-billing "
                          "init`") % {"home": home.root})


def cmd_init(args) -> int:
    from asr_billing.core.home_init import create_home

    home = _home(args)
    existed = home.exists()
    if args.db_url:
        from asr_billing.core.config import check_db_url

        try:
            check_db_url(args.db_url)
        except ValueError as exc:
            raise SystemExit(_("error: --db-url %(reason)s") % {"reason": exc}) from None
    try:
        create_home(home, demo=args.demo, db_url=args.db_url, language=args.language)
    except OSError as exc:  # a file in the way, no permission, a read-only disk
        raise HomeError(_("cannot create the home folder %(home)s: %(reason)s")
                        % {"home": home.root, "reason": exc}) from None
    _start_django(home)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_reference", verbosity=0)
    done = _("Using home folder %(home)s") if existed else _("Created home folder %(home)s")
    print(done % {"home": home.root})
    if args.demo:
        call_command("demo_data")
        _ensure_demo_admin(home)
    return 0


def _ensure_demo_admin(home: Home) -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    username, password = DEMO_ADMIN
    if not user_model.objects.filter(username=username).exists():
        user_model.objects.create_superuser(username, "", password)
    (home.var_dir / "demo-admin").write_text(f"{username} {password}\n", encoding="utf-8")


def _bind_address(text: str) -> str:
    """address:port; a bare port means 127.0.0.1:port; [v6]:port for IPv6."""
    text = text.strip()
    if text.isdigit():
        text = f"127.0.0.1:{text}"
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not address:port (e.g. 127.0.0.1:8082, 0.0.0.0:8082 or 8082)")
            % {"text": text})
    return text


def _check_bind(bind: str) -> None:
    """Refuse a port that is taken (or an address not on this machine) before saying that
    the server runs: one clear line instead of gunicorn's retries and traceback."""
    import socket

    host, _sep, port = bind.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError as exc:
            raise HomeError(_("cannot listen on %(bind)s: %(reason)s")
                            % {"bind": bind, "reason": exc.strerror or exc}) from None


def cmd_serve(args) -> int:
    home = _home(args)
    _require_home(home)
    _check_bind(args.bind)
    _start_django(home)
    if not args.no_migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    base = f"http://{args.bind}"
    print(_("asr-billing on %(url)s") % {"url": f"{base}/"})
    print(_("  admin:       %(url)s") % {"url": f"{base}/admin/"})
    print(_("  system API:  %(url)s") % {"url": f"{base}/system_api/"})
    demo = home.var_dir / "demo-admin"
    if demo.exists():
        username, password = demo.read_text(encoding="utf-8").split()
        print(_("  demo admin login: %(username)s / %(password)s  (change it before going "
                "live)") % {"username": username, "password": password})
    sys.stdout.flush()
    # /metrics sums the counters of every worker: prometheus-client's multiprocess mode
    # keeps them in files, emptied at each start (counters restart from zero with the
    # server, as Prometheus expects). Set before gunicorn loads the app.
    metrics_dir = home.var_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    argv = [
        gunicorn,
        "asr_billing.wsgi:application",
        "--bind",
        args.bind,
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        "120",
        # Load the app once in the master: a worker that gunicorn replaces (after a crash
        # or a timeout) forks from it instead of reading cfg/config again at boot. With a
        # broken file that boot would fail, and gunicorn stops the whole server then.
        "--preload",
        # Log handlers with the redaction filter (gunicorn logs refused request lines whole).
        "--config",
        "python:asr_billing.gunicorn_conf",
        # The path without the query string: system API calls carry psw= and passwords there.
        "--access-logformat",
        '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
    ]
    os.execvpe(gunicorn, argv, os.environ)  # noqa: S606 - fixed argv, no shell
    return 0  # pragma: no cover


def cmd_demo(args) -> int:
    home = _home(args)
    _require_home(home)
    _start_django(home)
    from django.core.management import call_command

    call_command("seed_reference", verbosity=0)
    if args.subscribers is None:
        call_command("demo_data")
        _ensure_demo_admin(home)
    else:
        call_command("demo_data", subscribers=args.subscribers)
    return 0


SECRET_WORDS = ("psw", "key", "password", "secret", "token")


def _is_secret(key: str) -> bool:
    """Context passwords (api.<context>.psw), keys (api.rest.key), tokens (api.token), a
    gateway's auth.password and secret: the last part of the name says so. Not a number
    named after one (reset.token_minutes, api.legacy_rest.key_ttl)."""
    last = key.rsplit(".", 1)[-1]
    return last in SECRET_WORDS or last.endswith(tuple(f"_{w}" for w in SECRET_WORDS))


def _known_key(section: str, key: str) -> bool:
    """A key the billing reads: the schema's, a context password, a payment gateway's
    setting (checked by the config file itself) or a Carbon ``.widget`` hint."""
    from asr_billing.core.config import PSW_KEY_RE

    return ((section, key) in SCHEMA or section == "payments" or key.endswith(".widget")
            or (section == "network" and PSW_KEY_RE.fullmatch(key) is not None))


def _masked(key: str, value: str) -> str:
    """The value as `config show` prints it without --reveal: secrets as ***, and the
    password of any URL (app['db.url'], cabinet['email.smtp_url']) as ***."""
    if _is_secret(key) and value:
        return "***"
    if "://" in value:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:  # not a URL after all (an unknown key): hide what may be one
            return "***" if "@" in value else value
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            netloc = f"{parts.username}:***@{host}"
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def cmd_config(args) -> int:
    home = _home(args)
    _require_home(home)
    config = ConfigFile.load(home.config_file)
    if args.config_command == "get":
        value = config.get(args.section, args.key)
        if value is None:
            print(_("error: %(key)s is not set") % {"key": _key_name(args)}, file=sys.stderr)
            return 1
        print(value)
        return 0
    if args.config_command in ("set", "unset") and not _known_key(args.section, args.key) \
            and not args.force:
        near = _nearest_key(args.section, args.key)
        if near:
            text = _("error: %(key)s is not a key asr-billing reads; did you mean %(near)s? "
                     "(docs/configuration.md; --force writes it anyway)")
        else:
            text = _("error: %(key)s is not a key asr-billing reads (docs/configuration.md; "
                     "--force writes it anyway)")
        print(text % {"key": _key_name(args), "near": near}, file=sys.stderr)
        return 2
    if args.config_command == "set":
        if (args.section, args.key) == ("app", "db.replica_url") and args.value \
                and not config.get("app", "db.url"):
            print(_("error: app['db.replica_url'] needs PostgreSQL in app['db.url'] first "
                    "(the embedded SQLite has no replicas; docs/scaling.md)"), file=sys.stderr)
            return 2
        config.set(args.section, args.key, args.value)
        config.save()
        return 0
    if args.config_command == "unset":
        if not config.unset(args.section, args.key):
            print(_("%(key)s was not set") % {"key": _key_name(args)}, file=sys.stderr)
            return 0
        config.save()
        default = SCHEMA.get((args.section, args.key))
        if default is not None:
            print(_("%(key)s is now its default: %(value)s")
                  % {"key": _key_name(args), "value": quote(default.default)})
        return 0
    # show: the value in force for every known key (defaults marked), then the others.
    present = config.values()
    keys = list(SCHEMA) + sorted(k for k in present if k not in SCHEMA)
    for section, key in keys:
        value = config.get(section, key) or ""
        shown = value if args.reveal else _masked(key, value)
        mark = "" if (section, key) in present else "   # default"
        print(f"{section}[{quote(key)}]={quote(shown)}{mark}")
    return 0


def _key_name(args) -> str:
    return f"{args.section}['{args.key}']"


def _nearest_key(section: str, key: str) -> str:
    import difflib

    names = [f"{s}['{k}']" for s, k in SCHEMA]
    found = difflib.get_close_matches(f"{section}['{key}']", names, n=1, cutoff=0.75)
    return found[0] if found else ""


def cmd_backup(args) -> int:
    import time

    from asr_billing.core.backup import LOUD, backup

    home = _home(args)
    _require_home(home)
    out = args.out or home.var_dir / "backups" / time.strftime("asr-billing-%Y%m%d-%H%M%S.tar.gz")
    manifest = backup(home, out.expanduser().absolute())
    if manifest["keys"]:
        written = _("Backup written: %(out)s (%(engine)s database, cfg/config, %(keys)s)")
    else:
        written = _("Backup written: %(out)s (%(engine)s database, cfg/config, no keys)")
    print(written % {"out": out, "engine": manifest["engine"],
                     "keys": ", ".join(manifest["keys"])})
    if "login_password.key" in manifest["keys"]:
        print(_("WARNING: %(text)s") % {"text": _(LOUD)}, file=sys.stderr)
    else:
        print(_("WARNING: this home has no cfg/login_password.key: the subscribers' login "
                "passwords in this backup can never be read"), file=sys.stderr)
    return 0


def cmd_restore(args) -> int:
    from asr_billing.core.backup import BackupError, restore

    home = _home(args)
    existed = home.root.exists()
    if existed and any(home.root.iterdir()):
        # Checked here too: the clean-up below must only ever empty a folder we filled.
        raise BackupError(_("%(path)s is not empty: restore into a new or empty folder "
                            "(never over a live home)") % {"path": home.root})
    try:
        manifest = restore(args.archive.expanduser(), home, args.db_url)
    except Exception:
        # Nothing half-restored is left in the folder that was new or empty.
        if not existed:
            shutil.rmtree(home.root, ignore_errors=True)
        elif home.root.exists():
            for path in home.root.iterdir():
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        raise
    print(_("Restored %(archive)s (%(engine)s, made %(created)s) into %(home)s")
          % {"archive": args.archive, "engine": manifest["engine"],
             "created": manifest["created"], "home": home.root})
    if "login_password.key" not in manifest.get("keys", []):
        print(_("WARNING: the backup had no cfg/login_password.key: login passwords cannot "
                "be read; set new ones"), file=sys.stderr)
    print(_("Checking it (asr-billing check):"))
    sys.stdout.flush()
    done = subprocess.run(  # noqa: S603 - our own command, fixed argv
        [sys.executable, "-m", "asr_billing", "check", "--home", str(home.root)],
        env={**os.environ, HOME_ENV: str(home.root)})
    return done.returncode


def cmd_django(command: str, *command_args, **options) -> int:
    from django.core.management import call_command

    call_command(command, *command_args, **options)
    return 0


def main(argv: list[str] | None = None) -> int:
    from django.core.exceptions import ImproperlyConfigured

    argv = sys.argv[1:] if argv is None else argv
    use_language(_language_for(argv))
    args = _parser().parse_args(argv)
    try:
        if args.command == "init":
            return cmd_init(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "config":
            return cmd_config(args)
        if args.command == "backup":
            return cmd_backup(args)
        if args.command == "restore":
            return cmd_restore(args)
        if args.command == "radius" and args.radius_command == "serve":
            from asr_billing.radius.serve import serve

            return serve(args, _home(args))
        home = _home(args)
        _require_home(home)
        _start_django(home)
        if args.command == "check":
            return cmd_django("ledger_check")
        if args.command == "bill":
            extra = {"date": args.date} if args.date else {}
            return cmd_django("bill_run", batch_size=args.batch_size, **extra)
        if args.command == "payments":
            return run_reconcile(args)
        if args.command == "radius":
            return run_radius(args, home)
        if args.command == "apikey":
            return run_apikey(args)
        if args.command == "import":
            return run_import(args, home)
        if args.command == "scheduler":
            return cmd_django("billing_scheduler")
        if args.command == "createadmin":
            return cmd_django(
                "createadmin", username=args.username, email=args.email, password=args.password
            )
        if args.command == "manage":
            from django.core.management import execute_from_command_line

            execute_from_command_line(["asr-billing manage", *args.args])
            return 0
    except (HomeError, ConfigError, ImproperlyConfigured) as exc:
        print(_("error: %(message)s") % {"message": exc}, file=sys.stderr)
        return 2
    except BrokenPipeError:  # `asr-billing config show | head`
        sys.stderr.close()
        return 0
    except SystemExit:
        raise
    except Exception as exc:
        from django.core.management.base import CommandError

        if isinstance(exc, CommandError):
            print(_("error: %(message)s") % {"message": exc}, file=sys.stderr)
            return getattr(exc, "returncode", 1) or 1
        log = _log_failure(args)
        text = (_("error: %(message)s (details in %(log)s)") if log
                else _("error: %(message)s"))
        print(text % {"message": _one_line(exc), "log": log}, file=sys.stderr)
        return 1
    return 1


def _one_line(exc: BaseException) -> str:
    """What failed, for the terminal: the database's or the system's words, one line."""
    from django.db import DatabaseError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, DatabaseError):
        return _("the database: %(reason)s") % {"reason": text}
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or text}: {exc.filename}"
    return f"{type(exc).__name__}: {text}"


def _log_failure(args) -> str:
    """The traceback goes to the home's error.log (never the terminal); returns where
    ("" when it could not be written)."""
    import traceback

    from asr_billing.core.logging import redact

    text = redact(traceback.format_exc())
    try:
        log = resolve_home(getattr(args, "home", None)).error_log
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"asr-billing {getattr(args, 'command', '')} failed:\n{text}\n")
    except Exception:  # no home, an unwritable log: the terminal gets the line only
        return ""
    return str(log)
