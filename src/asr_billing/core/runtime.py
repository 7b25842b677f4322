"""The live view of ``cfg/config`` for a running server.

Every request asks ``current()``; a changed file (mtime or size) is parsed again. A file
that no longer parses is reported in error.log once and the last good version stays in
force, so a typo made while the server runs never takes the API down.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings

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


@dataclass(frozen=True)
class Snapshot:
    """Typed values of one parsed version of the file."""

    config: ConfigFile

    def get(self, section: str, key: str) -> str:
        return self.config.get(section, key) or ""

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
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._bad_stamp: tuple[int, int] | None = None
        self._snapshot: Snapshot | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Snapshot:
        stamp = self._stat()
        if self._snapshot is not None and (stamp == self._stamp or stamp == self._bad_stamp):
            return self._snapshot
        with self._lock:
            if self._snapshot is None or stamp not in (self._stamp, self._bad_stamp):
                self._reload(stamp)
        return self._snapshot

    def _reload(self, stamp) -> None:
        try:
            snapshot = Snapshot(ConfigFile.load(self.path))
        except ConfigError as exc:
            if self._snapshot is None:
                raise
            self._bad_stamp = stamp
            logger.error("config not applied, keeping the last good one: %s", exc)
            return
        self._snapshot = snapshot
        self._stamp = stamp
        self._bad_stamp = None
        apply_log_level(snapshot.loglevel)


def apply_log_level(name: str) -> None:
    level = LOG_LEVEL_NAMES.get(name, logging.ERROR)
    for logger_name in LIVE_LOGGERS:
        logging.getLogger(logger_name).setLevel(level)


_runtime: RuntimeConfig | None = None


def runtime() -> RuntimeConfig:
    global _runtime
    if _runtime is None or _runtime.path != str(settings.ASR_HOME.config_file):
        _runtime = RuntimeConfig(str(settings.ASR_HOME.config_file))
    return _runtime


def current() -> Snapshot:
    """The config in force now (re-read when the file changed)."""
    return runtime().current()
