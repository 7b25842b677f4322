"""Running Debian's FreeRADIUS (freeradius, freeradius-rest, freeradius-utils) in tests:
whether it is here, and one daemon on free high loopback ports from a generated folder.

Without the packages the tests are skipped with the reason — except in CI (CI set), where
.ci/run installs them and a missing one must fail the run, not hide it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.docs.server import log_tail, stop_process

TOOLS = ("freeradius", "radclient", "radtest")
REST_MODULE = Path("/usr/lib/freeradius/rlm_rest.so")
SECRET = "testing123"  # the --client secret of loopback, as in the example


def missing() -> list[str]:
    gone = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not REST_MODULE.exists():
        gone.append(f"{REST_MODULE} (package freeradius-rest)")
    return gone


def require_freeradius() -> None:
    gone = missing()
    if not gone:
        return
    reason = (f"FreeRADIUS is not installed (missing: {', '.join(gone)}); "
              "apt-get install freeradius freeradius-rest freeradius-utils (see .ci/run)")
    if os.environ.get("CI"):
        pytest.fail(f"in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_udp_ports(count: int) -> list[int]:
    """Ports free for UDP on loopback now (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class FreeRadius:
    """``freeradius -f -l stdout -d DIR``: started, waited for, stopped."""

    def __init__(self, folder: Path, auth_port: int, acct_port: int):
        self.folder = folder
        self.auth_port = auth_port
        self.acct_port = acct_port
        self.log = folder / "stdout.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                ["freeradius", "-f", "-l", "stdout", "-d", str(self.folder)],  # noqa: S607
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while b"Ready to process requests" not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"freeradius did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, chars: int = 4000) -> str:
        return log_tail(self.log, chars)

    def stop(self) -> None:
        stop_process(self.process, timeout=20)


def lint(folder: Path) -> subprocess.CompletedProcess:
    """``freeradius -XC``: reads and checks the whole configuration, contacts nothing."""
    return subprocess.run(  # noqa: S603 - fixed argv
        ["freeradius", "-XC", "-d", str(folder)],  # noqa: S607
        capture_output=True, text=True, timeout=60, check=False)
