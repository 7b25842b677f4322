"""``asr-billing serve`` keeps answering with its last good config when cfg/config breaks,
also after gunicorn replaces a worker (a crash, a timeout): the replacement must not read
the broken file at boot, or gunicorn's master gives up and the whole server stops."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from asr_billing.core.config import ConfigFile
from tests.live_server import answers, cli, http_get, serve, serving, stop_process, wait_until


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


def test_a_broken_config_survives_a_worker_restart(tmp_path):
    home = tmp_path / "home"
    cli(home, "init", "--home", str(home), "--language", "en", timeout=300)
    psw = ConfigFile.load(home / "cfg" / "config").get("network", "api.collector.psw")
    collector = ("/system_api/?context=collector&psw={}&model=Abonents"
                 "&method1=collector_manager.users_blocked&arg1=%7B%22nas_ip%22:%2210.0.0.1%22%7D")
    log = home / "serve.out"
    process, port = serve(home, log, seconds=60)
    try:
        assert "Доступ запрещён" not in http_get(port, collector.format(psw))[1]

        with open(home / "cfg" / "config", "a", encoding="utf-8") as config:
            config.write("network['api.collector.psw']='new\n")  # unterminated quote
        assert "Доступ запрещён" not in http_get(port, collector.format(psw))[1]

        [worker] = _children(process.pid)
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: _children(process.pid) - {worker} and answers(port),
                   "no new worker answers", process, log, seconds=60)
        assert process.poll() is None  # the master is still there
        # The new worker works with the config the server had, not the broken file.
        assert "Доступ запрещён" not in http_get(port, collector.format(psw))[1]
        error_log = (home / "var" / "log" / "django" / "error.log").read_text()
        assert "config not applied, keeping the last good one" in error_log
        assert "unterminated single quote" in error_log
    finally:
        stop_process(process)


def test_server_logs_never_show_passwords(tmp_path):
    """gunicorn prints a refused request line whole and the access log a path: neither
    may carry psw= (the system API's clients send it in the URL)."""
    home = tmp_path / "home"
    cli(home, "init", "--home", str(home), timeout=300)
    log = home / "serve.out"
    with serving(home, log, seconds=60) as port:
        http_get(port, "/system_api/?context=collector&psw=secretInQuery1")
        for line in (b"GET /system_api/?psw=secretBadLine2&x=a b HTTP/1.1",
                     "GET /system_api/?psw=secretBadLine3&x=Иван HTTP/1.1".encode()):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(line + b"\r\nHost: x\r\n\r\n")
                assert sock.recv(100).startswith(b"HTTP/1.1 400")
    text = log.read_text(errors="replace")
    assert "Invalid" in text and '"GET /system_api/" 403' in text
    assert "secret" not in text
