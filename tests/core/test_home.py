"""The home folder: resolving it, and creating it without exposing a secret."""

from __future__ import annotations

import os
import stat

import pytest

from asr_billing.core.config import ConfigFile
from asr_billing.core.home_init import DEMO_PASSWORDS, PASSWORD_CONTEXTS, create_home
from asr_billing.home import HOME_ENV, Home, HomeError, read_key_file, resolve_home

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_resolve_home(tmp_path, monkeypatch):
    monkeypatch.delenv(HOME_ENV, raising=False)
    with pytest.raises(HomeError) as info:
        resolve_home()
    assert str(info.value) == (
        "no home folder: pass --home DIR or set ASR_BILLING_HOME "
        "(create one with `asr-billing init --home DIR`)"
    )
    with pytest.raises(HomeError):
        resolve_home("  ")
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "from-env"))
    assert resolve_home().root == tmp_path / "from-env"
    assert resolve_home(tmp_path / "explicit").root == tmp_path / "explicit"
    monkeypatch.chdir(tmp_path)
    assert resolve_home("relative").root == tmp_path / "relative"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_home("~/billing").root == tmp_path / "billing"


def test_home_layout(tmp_path):
    home = Home(tmp_path)
    assert home.config_file == tmp_path / "cfg" / "config"
    assert home.sqlite_file == tmp_path / "var" / "billing.sqlite3"
    assert home.error_log == tmp_path / "var" / "log" / "django" / "error.log"
    assert home.system_api_log == tmp_path / "var" / "log" / "django" / "system_api.log"
    assert home.exists() is False
    with pytest.raises(HomeError) as info:
        read_key_file(home.secret_key_file)
    assert str(info.value) == (
        f"{home.secret_key_file} is missing: run `asr-billing init` for this home folder"
    )


def test_create_home(tmp_path):
    home = Home(tmp_path / "h")
    create_home(home)
    assert home.exists()
    assert mode(home.cfg_dir) == 0o700
    config = ConfigFile.load(home.config_file)
    passwords = {c: config.get("network", f"api.{c}.psw") for c in PASSWORD_CONTEXTS}
    assert all(len(p) == 20 and p.isalnum() for p in passwords.values())
    assert set(passwords.values()).isdisjoint(DEMO_PASSWORDS.values())
    assert len(read_key_file(home.secret_key_file)) >= 50
    keys = {p: p.read_bytes() for p in (home.secret_key_file, home.login_key_file)}
    text = home.config_file.read_bytes()
    create_home(home, demo=True)  # never overwrites
    assert {p: p.read_bytes() for p in keys} == keys
    assert home.config_file.read_bytes() == text


def test_var_is_private_too(tmp_path):
    """var/ holds the SQLite database (admin sessions, password hashes, subscribers'
    personal data) and the logs: other local users must not read them."""
    home = Home(tmp_path / "h")
    create_home(home)
    assert mode(home.var_dir) == 0o700
    os.chmod(home.var_dir, 0o755)  # noqa: S103 - the loose mode this test repairs
    home.ensure_dirs()  # every start (settings.py) puts it back
    assert mode(home.var_dir) == 0o700


def test_demo_home_has_the_operator_notes_passwords(tmp_path):
    home = Home(tmp_path)
    create_home(home, demo=True, db_url="postgresql://postgres@127.0.0.1:5432/x")
    config = ConfigFile.load(home.config_file)
    assert config.get("network", "api.collector.psw") == "collectortestpsw"
    assert config.get("network", "api.asr_fiscal.psw") == "fiscalpsw123"
    assert config.get("network", "api.api_1c.psw") == "1ctestpsw"
    assert config.get("network", "api.allowed_ips") == "127.0.0.1 ::1"
    assert config.get("network", "api.context") == (
        "web cabinet collector api_1c base webcash asr_fiscal"
    )
    assert config.get("app", "db.url") == "postgresql://postgres@127.0.0.1:5432/x"


def test_secrets_are_created_private(tmp_path, monkeypatch):
    """Config and keys are created with mode 0600, never world-readable for a moment."""
    created = {}
    real_open = os.open

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            created[os.path.basename(path)] = mode
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    old_umask = os.umask(0)
    try:
        home = Home(tmp_path)
        create_home(home)
    finally:
        os.umask(old_umask)
    for name in ("config", "django_secret.key", "login_password.key"):
        assert created.get(name) == 0o600, (name, created)
        assert mode(home.cfg_dir / name) == 0o600
