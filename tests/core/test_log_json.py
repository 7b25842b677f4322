"""app['log.format']='json': one JSON object per line in error.log, secrets redacted as in
plain lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from asr_billing.core.logging import JsonFormatter, RedactSecretsFilter
from tests.live_server import clean_env


def test_a_record_as_json_with_secrets_masked():
    record = logging.LogRecord("asr_billing.x", logging.ERROR, __file__, 1,
                               "call failed: /system_api/?context=a&psw=%s", ("hunter2",), None)
    try:
        raise ValueError("psw=hunter2 in the exception")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert RedactSecretsFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "error" and line["logger"] == "asr_billing.x"
    assert line["message"].startswith("call failed: /system_api/?context=a&psw=")
    assert "hunter2" not in json.dumps(line)
    assert "ValueError" in line["exception"]
    assert line["time"].endswith("+00:00")


def test_the_error_log_of_a_home_set_to_json(tmp_path):
    home = tmp_path / "home"
    env = clean_env(home)
    run = [sys.executable, "-m", "asr_billing"]
    subprocess.run([*run, "init", "--home", str(home)], env=env, check=True,  # noqa: S603
                   capture_output=True, timeout=300)
    subprocess.run([*run, "config", "set", "app", "log.format", "json", "--home", str(home)],  # noqa: S603
                   env=env, check=True, capture_output=True, timeout=60)
    code = ("import logging; logging.getLogger('asr_billing.test').error("
            "'refused psw=%s', 'topsecret')")
    subprocess.run([*run, "manage", "shell", "-c", code, "--home", str(home)],  # noqa: S603
                   env=env, check=True, capture_output=True, timeout=120)
    lines = (home / "var" / "log" / "django" / "error.log").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["logger"] == "asr_billing.test" and "topsecret" not in lines[-1]


def test_a_bad_format_value_is_refused(tmp_path):
    home = tmp_path / "home"
    env = clean_env(home)
    run = [sys.executable, "-m", "asr_billing"]
    subprocess.run([*run, "init", "--home", str(home)], env=env, check=True,  # noqa: S603
                   capture_output=True, timeout=300)
    before = (home / "cfg" / "config").read_bytes()
    done = subprocess.run([*run, "config", "set", "app", "log.format", "xml",  # noqa: S603
                           "--home", str(home)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "log.format" in done.stderr
    assert (home / "cfg" / "config").read_bytes() == before
