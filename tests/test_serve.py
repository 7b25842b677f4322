"""``asr-billing serve`` keeps answering with its last good config when cfg/config breaks,
also after gunicorn replaces a worker (a crash, a timeout): the replacement must not read
the broken file at boot, or gunicorn's master gives up and the whole server stops."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from asr_billing.core.config import ConfigFile


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "ASR_BILLING_TEST_DB_URL")}
    env["ASR_BILLING_HOME"] = str(home)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait(predicate, what: str, process, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: {log.read_text()[-3000:]}")
        time.sleep(0.2)


def _answers(port: int) -> bool:
    try:
        return _get(port, "/admin/login/")[0] == 200
    except OSError:
        return False


def test_a_broken_config_survives_a_worker_restart(tmp_path):
    home = tmp_path / "home"
    argv = [sys.executable, "-m", "asr_billing"]
    subprocess.run([*argv, "init", "--home", str(home), "--language", "en"],  # noqa: S603
                   env=_env(home), check=True, capture_output=True, timeout=300)
    psw = ConfigFile.load(home / "cfg" / "config").get("network", "api.collector.psw")
    collector = ("/system_api/?context=collector&psw={}&model=Abonents"
                 "&method1=collector_manager.users_blocked&arg1=%7B%22nas_ip%22:%2210.0.0.1%22%7D")
    port = _free_port()
    log = home / "serve.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [*argv, "serve", "--home", str(home), "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--no-migrate"],
            env=_env(home), stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _answers(port), "the server did not start", process, log)
            assert "Доступ запрещён" not in _get(port, collector.format(psw))[1]

            with open(home / "cfg" / "config", "a", encoding="utf-8") as config:
                config.write("network['api.collector.psw']='new\n")  # unterminated quote
            assert "Доступ запрещён" not in _get(port, collector.format(psw))[1]

            [worker] = _children(process.pid)
            os.kill(worker, signal.SIGKILL)
            _wait(lambda: _children(process.pid) - {worker} and _answers(port),
                  "no new worker answers", process, log)
            assert process.poll() is None  # the master is still there
            # The new worker works with the config the server had, not the broken file.
            assert "Доступ запрещён" not in _get(port, collector.format(psw))[1]
            error_log = (home / "var" / "log" / "django" / "error.log").read_text()
            assert "config not applied, keeping the last good one" in error_log
            assert "unterminated single quote" in error_log
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_server_logs_never_show_passwords(tmp_path):
    """gunicorn prints a refused request line whole and the access log a path: neither
    may carry psw= (the system API's clients send it in the URL)."""
    home = tmp_path / "home"
    argv = [sys.executable, "-m", "asr_billing"]
    subprocess.run([*argv, "init", "--home", str(home)], env=_env(home), check=True,  # noqa: S603
                   capture_output=True, timeout=300)
    port = _free_port()
    log = home / "serve.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [*argv, "serve", "--home", str(home), "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--no-migrate"],
            env=_env(home), stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _answers(port), "the server did not start", process, log)
            _get(port, "/system_api/?context=collector&psw=secretInQuery1")
            for line in (b"GET /system_api/?psw=secretBadLine2&x=a b HTTP/1.1",
                         "GET /system_api/?psw=secretBadLine3&x=Иван HTTP/1.1".encode()):
                with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                    sock.sendall(line + b"\r\nHost: x\r\n\r\n")
                    assert sock.recv(100).startswith(b"HTTP/1.1 400")
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "Invalid" in text and '"GET /system_api/" 403' in text
    assert "secret" not in text
