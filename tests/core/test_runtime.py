"""The live config of a running server (asr_billing.core.runtime)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from django.conf import settings

from asr_billing.core import runtime
from asr_billing.core.config import ConfigError, ConfigFile
from asr_billing.core.runtime import RuntimeConfig

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")

GOOD = """\
declare -A app network
app['django.loglevel']='error'
app['language']='ru'
network['api.context']='web collector'
network['api.collector.psw']='one'
network['api.allowed_ips']='127.0.0.1 10.0.0.0/8 ::1'
"""


def error_log_text() -> str:
    for handler in logging.getLogger("asr_billing").handlers:
        handler.flush()
    path = Path(settings.ASR_HOME.error_log)
    return path.read_text(encoding="utf-8") if path.exists() else ""


def edit(path: Path, text: str) -> None:
    """Write in place, the way an editor without a temp file does."""
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def live(tmp_path):
    path = tmp_path / "config"
    edit(path, GOOD)
    config = RuntimeConfig(str(path))
    yield path, config
    runtime.apply_log_level("error")


def test_first_read(live):
    _, config = live
    snapshot = config.current()
    assert snapshot.contexts == frozenset({"web", "collector"})
    assert snapshot.passwords == {"collector": "one"}
    assert snapshot.language == "ru"
    assert [str(n) for n in snapshot.allowed_networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert snapshot.trusted_proxies == []
    assert snapshot.time_zone == "Europe/Moscow"  # schema default
    assert snapshot.currency == "RUB"
    assert config.current() is snapshot  # unchanged file: the same snapshot


def test_a_broken_file_at_start_is_an_error(tmp_path):
    path = tmp_path / "config"
    edit(path, "garbage\n")
    with pytest.raises(ConfigError) as info:
        RuntimeConfig(str(path)).current()
    assert str(info.value) == (
        f"{path}:1: expected section['key']='value', a # comment or a blank line"
    )


def test_an_edit_is_seen_without_restart(live):
    path, config = live
    assert config.current().passwords == {"collector": "one"}
    # Same size, written at once: only the content tells the versions apart.
    edit(path, GOOD.replace("'one'", "'two'"))
    assert config.current().passwords == {"collector": "two"}
    edit(path, GOOD.replace("'one'", "'3me'").replace("'ru'", "'en'"))
    snapshot = config.current()
    assert snapshot.passwords == {"collector": "3me"}
    assert snapshot.language == "en"


def test_an_edit_hidden_by_a_coarse_file_clock_is_seen(live):
    """Older kernels stamp files with a clock tick: two same-size writes within one tick
    leave the stat unchanged. Simulate it by putting the old mtime back."""
    path, config = live
    assert config.current().passwords == {"collector": "one"}
    stat = path.stat()
    edit(path, GOOD.replace("'one'", "'two'"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_ino, path.stat().st_size) == (stat.st_ino, stat.st_size)
    assert config.current().passwords == {"collector": "two"}


def test_an_edit_through_config_set_is_seen(live):
    path, config = live
    assert config.current().contexts == frozenset({"web", "collector"})
    file = ConfigFile.load(path)
    file.set("network", "api.context", "web collector api_1c")
    file.set("network", "api.api_1c.psw", "1ctestpsw")
    file.save()
    snapshot = config.current()
    assert snapshot.contexts == frozenset({"web", "collector", "api_1c"})
    assert snapshot.passwords == {"collector": "one", "api_1c": "1ctestpsw"}


def test_a_broken_edit_keeps_the_last_good_config_and_logs_once(live):
    path, config = live
    good = config.current()
    before = error_log_text()
    edit(path, GOOD + "network['api.allowed_ips']='10.0.0.0/33'\n")
    for _ in range(3):
        assert config.current() is good
    added = error_log_text()[len(before) :]
    message = (
        f"config not applied, keeping the last good one: {path}:7: "
        "network['api.allowed_ips']: '10.0.0.0/33' is not an IP address or CIDR network"
    )
    assert added.count(message) == 1, added
    assert " ERROR asr_billing.config " in added

    # Another broken version is reported too, once.
    edit(path, GOOD + "app['language']=`id`\n")
    assert config.current() is good
    assert config.current() is good
    added = error_log_text()[len(before) :]
    assert added.count(f"{path}:7: shell expansion") == 1

    # Fixed: applied again.
    edit(path, GOOD.replace("'ru'", "'en'"))
    assert config.current().language == "en"
    assert error_log_text()[len(before) :] == added


def test_a_deleted_file_keeps_the_last_good_config(live):
    path, config = live
    good = config.current()
    before = error_log_text()
    path.unlink()
    assert config.current() is good
    assert config.current() is good
    assert error_log_text()[len(before) :].count(f"{path}: file not found") == 1
    edit(path, GOOD.replace("'one'", "'back'"))
    assert config.current().passwords == {"collector": "back"}


def test_loglevel_follows_the_file(live):
    path, config = live
    config.current()
    assert logging.getLogger("asr_billing").level == logging.ERROR
    edit(path, GOOD.replace("'error'", "'info'"))
    config.current()
    for name in ("asr_billing", "asr_billing.system_api", "django"):
        assert logging.getLogger(name).level == logging.INFO
    assert logging.getLogger("asr_billing.system_api").isEnabledFor(logging.INFO)
    edit(path, GOOD.replace("'error'", "'warning'"))
    config.current()
    assert logging.getLogger("asr_billing.system_api").level == logging.WARNING


def test_current_reads_the_home_folder_config():
    snapshot = runtime.current()
    assert runtime.runtime().path == str(settings.ASR_HOME.config_file)
    # The test home is a demo home (asr_billing.test_settings).
    assert snapshot.passwords["collector"] == "collectortestpsw"
    assert snapshot.passwords["api_1c"] == "1ctestpsw"
    assert "asr_fiscal" in snapshot.contexts
