"""The live view of ``cfg/config`` for a running server.

Every request asks ``current()``; a changed file (inode, mtime or size) is parsed again.
A file that no longer parses (or is gone) is reported in error.log once and the last good
version stays in force, so a typo made while the server runs never takes the API down.

File times can be coarse (a clock tick on many kernels, 2 s on FAT): a second edit of
the same size within that window leaves the stat unchanged. As git does for its index,
a version read within that window of its mtime is "racy" and its content is compared
until a read happens after the window; from then on any new write changes the mtime.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.config import PSW_KEY_RE, ConfigError, ConfigFile, parse_networks

logger = logging.getLogger("asr_billing.config")

LOG_LEVEL_NAMES = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
# Loggers whose level follows app['django.loglevel'].
LIVE_LOGGERS = ("asr_billing", "asr_billing.system_api", "django")
# The coarsest file time resolution we guard against (FAT); ext4 on older kernels: ~4 ms.
RACY_NS = 2_000_000_000
_MISSING = object()  # the stamp of a file that does not exist


@dataclass(frozen=True)
class Snapshot:
    """Typed values of one parsed version of the file."""

    config: ConfigFile

    @cached_property
    def _values(self) -> dict[tuple[str, str], str]:
        # A snapshot's file is never changed after it is read; every request asks for a
        # few values (FreeRADIUS's thousands a second), so the lines are walked once.
        return self.config.values()

    def get(self, section: str, key: str) -> str:
        value = self._values.get((section, key))
        if value is None:
            return self.config.get(section, key) or ""  # the default from the schema
        return value

    @cached_property
    def contexts(self) -> frozenset[str]:
        return frozenset(self.get("network", "api.context").split())

    @cached_property
    def allowed_networks(self):
        return parse_networks(self.get("network", "api.allowed_ips"))

    @cached_property
    def trusted_proxies(self):
        return parse_networks(self.get("network", "api.trusted_proxies"))

    @cached_property
    def cabinet_servers(self):
        """network['api.cabinet_servers']: servers that log subscribers in for them."""
        return parse_networks(self.get("network", "api.cabinet_servers"))

    @cached_property
    def passwords(self) -> dict[str, str]:
        """Context name -> password, from every network['api.<context>.psw'] line."""
        result = {}
        for (section, key), value in self.config.values().items():
            match = PSW_KEY_RE.fullmatch(key)
            if section == "network" and match:
                result[match.group(1)] = value
        return result

    @property
    def loglevel(self) -> str:
        return self.get("app", "django.loglevel")

    @property
    def language(self) -> str:
        return self.get("app", "language")

    @property
    def time_zone(self) -> str:
        return self.get("app", "time_zone")

    @property
    def currency(self) -> str:
        return self.get("app", "currency")


class RuntimeConfig:
    def __init__(self, path: str, initial: ConfigFile | None = None):
        """``initial``: the version the process started with (settings.ASR_CONFIG). It is
        the last good one for a process whose first read finds the file broken: a worker
        that gunicorn forks after the file was broken must keep serving."""
        self.path = path
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        if initial is not None:
            self._snapshot = Snapshot(initial)
            apply_log_level(self._snapshot.loglevel)
        # The version last read (applied or refused): its stat, its bytes, and whether
        # the stat alone cannot prove that the file still holds those bytes.
        self._stamp: object = None
        self._data: bytes | None = None
        self._racy = False
        # Why the file on disk is not the config in force ("" when it is): /ready says so.
        self.problem = ""

    def _stat(self) -> object:
        try:
            st = os.stat(self.path)
        except OSError:
            return _MISSING
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self) -> bytes | None:
        try:
            with open(self.path, "rb") as file:
                return file.read()
        except OSError:
            return None

    def current(self) -> Snapshot:
        stamp = self._stat()
        if self._snapshot is not None and stamp == self._stamp and not self._racy:
            return self._snapshot
        with self._lock:
            stamp = self._stat()
            if self._snapshot is None or stamp != self._stamp:
                self._load(stamp, self._read())
            elif self._racy:
                started = time.time_ns()
                data = self._read()
                if data != self._data:
                    self._load(stamp, data)
                elif stamp is _MISSING or started >= stamp[1] + RACY_NS:
                    self._racy = False
        return self._snapshot

    def _load(self, stamp, data: bytes | None) -> None:
        """Apply ``data`` (the file's bytes, None when unreadable) or log why not."""
        started = time.time_ns()
        self._stamp, self._data = stamp, data
        self._racy = stamp is not _MISSING and started < stamp[1] + RACY_NS
        try:
            if data is None:
                raise ConfigError(self.path, None, _("file not found"))
            snapshot = Snapshot(ConfigFile.parse_bytes(data, self.path))
        except ConfigError as exc:
            if self._snapshot is None:
                raise
            # In the language of the error it carries: one language per line.
            logger.error(_("config not applied, keeping the last good one: %(error)s")
                         % {"error": exc})
            self.problem = str(exc)
            return
        self.problem = ""
        self._snapshot = snapshot
        apply_log_level(snapshot.loglevel)


def apply_log_level(name: str) -> None:
    level = LOG_LEVEL_NAMES.get(name, logging.ERROR)
    for logger_name in LIVE_LOGGERS:
        logging.getLogger(logger_name).setLevel(level)


_runtime: RuntimeConfig | None = None


_runtime_home: object = None


def runtime() -> RuntimeConfig:
    global _runtime, _runtime_home
    home = settings.ASR_HOME
    # The same home object as last time: no path to build (tests swap the home).
    if _runtime is not None and home is _runtime_home:
        return _runtime
    if _runtime is None or _runtime.path != str(home.config_file):
        _runtime = RuntimeConfig(
            str(home.config_file), initial=getattr(settings, "ASR_CONFIG", None)
        )
    _runtime_home = home
    return _runtime


def current() -> Snapshot:
    """The config in force now (re-read when the file changed)."""
    return runtime().current()
