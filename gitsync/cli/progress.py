"""A progress bar for long library work, drawn only once the work has lasted 2 s.

The library reports progress through a callback (``what, done, total``);
this draws it with rich on stderr, so ``--json`` output stays clean. rich is
imported only when a bar is drawn: most commands end well within 2 s.
"""

from __future__ import annotations

import sys
import time
from typing import Any

SHOW_AFTER = 2.0


class ProgressBar:
    """A callable for ``ClientFile.progress``; call ``close`` when the command ends."""

    def __init__(self, show_after: float = SHOW_AFTER) -> None:
        self.started = time.monotonic()
        self.show_after = show_after
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}

    def __call__(self, what: str, done: int, total: int) -> None:
        if self._bar is None:
            if time.monotonic() - self.started < self.show_after or not sys.stderr.isatty():
                return
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.start()
        if what not in self._tasks:
            self._tasks[what] = self._bar.add_task(what, total=total)
        self._bar.update(self._tasks[what], completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
