"""``asr-billing backup`` and ``asr-billing restore``: the database, cfg/config and the keys
in one archive; restore into a new or empty home only, then ``check``.

The archive (tar + gzip, mode 0600) holds ``manifest.json``, ``cfg/`` (config and the
keys) and the database: ``db/billing.sqlite3`` taken with SQLite's online backup API (a
consistent copy while the server writes), or ``db/billing.dump`` from ``pg_dump -Fc``
(one snapshot transaction: consistent while payments arrive). ``cfg/login_password.key``
is what decrypts the subscribers' login passwords: an archive without it restores a billing
whose PPPoE passwords are lost, and one that leaks leaks them — both are said loudly.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.cli_text import gettext_noop
from asr_billing.core.config import ConfigFile
from asr_billing.home import Home, HomeError

FORMAT = 1
KEY_FILES = ("django_secret.key", "login_password.key")
# Marked for the catalogue only: show it as _(LOUD) (or loud_warning()), in the language
# of the moment it is printed.
LOUD = gettext_noop(
    "This archive holds cfg/login_password.key: the only key that reads the subscribers' "
    "login passwords. Keep it as secret as the server, and keep it: without it a restored "
    "billing cannot authorize PPPoE.")


def loud_warning() -> str:
    """LOUD in app['language']."""
    return _(LOUD)


class BackupError(HomeError):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class PgTarget:
    """A PostgreSQL URL split for the client tools: the password goes through PGPASSWORD,
    never on a command line other users can read."""

    url: str
    password: str

    @classmethod
    def parse(cls, url: str) -> PgTarget:
        parts = urlsplit(url)
        password = unquote(parts.password or "")
        netloc = parts.netloc.rsplit("@", 1)
        host = netloc[-1]
        user = unquote(parts.username or "")
        safe = f"{user}@{host}" if user else host
        return cls(urlunsplit(parts._replace(netloc=safe)), password)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _db_url(home: Home) -> str:
    return ConfigFile.load(home.config_file).get("app", "db.url") or ""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(_("%(tool)s is not installed (Debian: apt-get install postgresql-client)")
                          % {"tool": name})
    return found


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(data))


def backup(home: Home, out: Path) -> dict:
    """Write the archive to ``out`` (refused if it exists); returns its manifest."""
    if not home.exists():
        raise BackupError(_("%(path)s is not a home folder (no cfg/config)")
                          % {"path": home.root})
    if out.exists():
        raise BackupError(_("%(path)s exists already: give another --out") % {"path": out})
    url = _db_url(home)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="asr-backup-") as scratch:
        scratch_dir = Path(scratch)
        if url:
            target = PgTarget.parse(url)
            dump = scratch_dir / "billing.dump"
            done = subprocess.run(  # noqa: S603 - fixed argv, the URL without its password
                [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 "--file", str(dump), "--dbname", target.url],
                env=target.env(), capture_output=True, text=True, timeout=86400)
            if done.returncode:
                raise BackupError(_("pg_dump failed: %(error)s")
                                  % {"error": done.stderr.strip()[-500:]})
            db_name, engine = "db/billing.dump", "postgresql"
        else:
            if not home.sqlite_file.is_file():
                raise BackupError(_("%(path)s is missing") % {"path": home.sqlite_file})
            dump = scratch_dir / "billing.sqlite3"
            source = sqlite3.connect(f"file:{home.sqlite_file}?mode=ro", uri=True, timeout=60)
            target_db = sqlite3.connect(dump)
            try:
                source.backup(target_db)  # consistent while the server writes
            finally:
                target_db.close()
                source.close()
            db_name, engine = "db/billing.sqlite3", "sqlite"
        manifest = {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "engine": engine, "database": db_name,
                    "keys": [name for name in KEY_FILES if (home.cfg_dir / name).is_file()]}
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=1).encode())
            _add_bytes(archive, "cfg/config", home.config_file.read_bytes())
            for name in manifest["keys"]:
                _add_bytes(archive, f"cfg/{name}", (home.cfg_dir / name).read_bytes())
            archive.add(dump, arcname=db_name)
        os.replace(partial, out)
    return manifest


def _members(archive: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    allowed = {"manifest.json", "cfg/config", "db/billing.sqlite3", "db/billing.dump",
               *(f"cfg/{name}" for name in KEY_FILES)}
    found = {}
    for member in archive.getmembers():
        if member.name not in allowed or not member.isfile():
            raise BackupError(_("not an asr-billing backup: unexpected %(name)r")
                              % {"name": member.name})
        found[member.name] = member
    if "manifest.json" not in found or "cfg/config" not in found:
        raise BackupError(_("not an asr-billing backup: no manifest.json or cfg/config"))
    return found


def _empty_pg(target: PgTarget) -> None:
    done = subprocess.run(  # noqa: S603 - fixed argv
        [_tool("psql"), "--no-psqlrc", "-At", "--dbname", target.url, "-c",
         "select count(*) from pg_tables where schemaname = 'public'"],
        env=target.env(), capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise BackupError(_("cannot reach %(url)s: %(error)s")
                          % {"url": target.url, "error": done.stderr.strip()[-300:]})
    if done.stdout.strip() != "0":
        raise BackupError(_("%(url)s has tables already: restore into an empty database "
                            "(never over a live one)") % {"url": target.url})


def restore(archive_path: Path, home: Home, db_url: str = "") -> dict:
    """Unpack into ``home`` (new or empty), restore the database; returns the manifest."""
    if home.root.exists() and any(home.root.iterdir()):
        raise BackupError(_("%(path)s is not empty: restore into a new or empty folder "
                            "(never over a live home)") % {"path": home.root})
    try:
        archive = tarfile.open(archive_path, mode="r:gz")  # noqa: SIM115 - `with` below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(_("cannot read %(path)s: %(error)s")
                          % {"path": archive_path, "error": exc}) from None
    with archive:
        members = _members(archive)
        try:
            manifest = json.loads(archive.extractfile(members["manifest.json"]).read())
        except ValueError:
            raise BackupError(_("not an asr-billing backup: manifest.json is not JSON")) from None
        if manifest.get("format") != FORMAT or manifest.get("database") not in members:
            raise BackupError(_("not an asr-billing backup of this version (format, database)"))
        engine = manifest.get("engine")
        if engine == "postgresql" and not db_url:
            raise BackupError(_("a PostgreSQL backup: give --db-url of an empty database to "
                                "restore into"))
        if engine == "sqlite" and db_url:
            raise BackupError(_("a SQLite backup restores into the home's SQLite file; "
                                "leave out --db-url"))
        target = PgTarget.parse(db_url) if db_url else None
        if target is not None:
            _empty_pg(target)
        home.ensure_dirs()
        for name in ("cfg/config", *(f"cfg/{k}" for k in KEY_FILES)):
            if name in members:
                path = home.root / name
                path.write_bytes(archive.extractfile(members[name]).read())
                os.chmod(path, 0o600)
        config = ConfigFile.load(home.config_file)
        config.set("app", "db.url", db_url)
        config.save()
        if target is None:
            data = archive.extractfile(members["db/billing.sqlite3"]).read()
            home.sqlite_file.write_bytes(data)
            os.chmod(home.sqlite_file, 0o600)
        else:
            with tempfile.TemporaryDirectory(prefix="asr-restore-") as scratch:
                dump = Path(scratch) / "billing.dump"
                dump.write_bytes(archive.extractfile(members["db/billing.dump"]).read())
                done = subprocess.run(  # noqa: S603 - fixed argv
                    [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                     "--dbname", target.url, str(dump)],
                    env=target.env(), capture_output=True, text=True, timeout=86400)
                if done.returncode:
                    raise BackupError(_("pg_restore failed: %(error)s")
                                      % {"error": done.stderr.strip()[-500:]})
    return manifest
