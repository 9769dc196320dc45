"""Fault points for the crash-injection harness (tests/reliability).

``fault_point("sync.fetched")`` kills the process with SIGKILL when the
environment variable ``GITSYNC_FAULT`` names that point (or names it with a
hit count, ``sync.fetched@2`` for the second time it is reached). With the
variable unset it costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    wanted = os.environ.get("GITSYNC_FAULT")
    if not wanted:
        return
    point, _, count = wanted.partition("@")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= (int(count) if count else 1):
        os.kill(os.getpid(), signal.SIGKILL)
