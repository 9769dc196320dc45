"""The per-copy lock: one process at a time moves a copy's refs or working files.

An advisory ``flock`` on ``.git/gitsync.lock``: the kernel drops it when
the process dies, so a crash never leaves a copy locked. Written here
rather than taken from filelock because that library imports asyncio,
which costs more start-up time (about 120 ms here) than a whole
``gitsync status`` may take.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

LOCK_NAME = "gitsync.lock"  # in a copy's .git folder


class CopyLock:
    """An exclusive lock on one file; ``acquire`` waits up to ``timeout`` seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock; False when another process still holds it after ``timeout``."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            self._fd = fd
            return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        """True while another process holds the lock (never waits)."""
        if not self.path.exists():
            return False
        if not self.acquire(timeout=0):
            return True
        self.release()
        return False
