"""The per-copy lock: one process at a time moves a copy's refs or working files.

An advisory ``flock`` on ``.git/gitsync.lock``: the kernel drops it when
the process dies, so a crash never leaves a copy locked. Written here
rather than taken from filelock because that library imports asyncio,
which costs more start-up time (about 120 ms here) than a whole
``gitsync status`` may take.

The holder writes its pid and what it is doing into the lock file, so a
second command can say whom it waits for. The library never prints: the
command line registers a callback (``on_wait``) that ``acquire`` calls once,
at once, when it has to wait.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

LOCK_NAME = "gitsync.lock"  # in a copy's .git folder

WaitNotice = Callable[[Path, str, float], None]
_wait_notice: WaitNotice | None = None
_doing: str | None = None


def on_wait(notice: WaitNotice | None) -> None:
    """Call ``notice(lock path, holder, timeout)`` once whenever a lock must be waited for."""
    global _wait_notice
    _wait_notice = notice


def set_doing(what: str | None) -> None:
    """What this process is doing, as other processes waiting for its lock are told."""
    global _doing
    _doing = what


def _this_process() -> str:
    doing = _doing
    if doing is None:
        args = list(sys.argv[1:])
        while len(args) >= 2 and args[0] == "-C":  # the folder is in the waiter's message
            args = args[2:]
        doing = " ".join(["gitsync", *args])
    doing = " ".join(doing.split())
    if len(doing) > 60:
        doing = doing[:57] + "..."
    return f"pid {os.getpid()}: {doing}"


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
        noticed = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                if not noticed and _wait_notice is not None:
                    noticed = True
                    _wait_notice(self.path, self.holder(), timeout)
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            self._fd = fd
            self._write_holder(fd, timeout)
            return True

    def _write_holder(self, fd: int, timeout: float) -> None:
        if timeout <= 0:
            return  # a probe (held_elsewhere) holds the lock for no time at all
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (_this_process() + "\n").encode("utf-8", "replace"), 0)
        except OSError:
            pass  # who holds the lock is a courtesy; the lock itself is the flock

    def holder(self) -> str:
        """Who holds the lock, as its holder wrote it (``pid 123: gitsync sync``)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        return text.splitlines()[0] if text else "another gitsync process"

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
