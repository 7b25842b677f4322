"""A progress bar for long generators: rich on a terminal, silent in CI and in pipes."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


class _Quiet:
    def advance(self, n: int = 1) -> None:
        pass


class _RichBar:
    def __init__(self, progress, task):
        self._progress = progress
        self._task = task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)


def progress_enabled(stream=None) -> bool:
    """Show a bar only for a person watching: a TTY, and not under CI (CI=true/1/yes)."""
    stream = stream if stream is not None else sys.stdout
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(total: int, description: str, *, enabled: bool | None = None):
    """Yield an object with ``advance(n)``; draws a rich bar when ``enabled`` (default:
    progress_enabled())."""
    if enabled is None:
        enabled = progress_enabled()
    if not enabled:
        yield _Quiet()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield _RichBar(progress, task)
