"""Sign-in with a password: throttled per user and per address, argon2 in a small pool of its own.

A password is checked with argon2 (about 0.1 s and 64 MiB each, on purpose).
Run on the shared thread pool, 16 parallel bad sign-ins took the server from
100 MB to 494 MB and a good request then waited 2.3 s. So:

- past ``user_failures`` failures of one user, or ``address_failures`` from
  one address, within ``window`` seconds, the answer is 429 with Retry-After,
  before any argon2 work (the window slides: the oldest failure ages out);
- a success from an address forgets that address's failures for the user,
  never another address's, so a guesser elsewhere cannot reset the count;
- argon2 runs on ``workers`` threads of its own (half the cores, at most
  four; one on a two-core machine) with at most ``queue`` waiting; when those
  are full the attempt is refused (503) with no argon2 work, so a storm of
  sign-ins never holds the threads git and the API run on;
- a refused attempt (429 or 503) is answered after a pause of ``PAUSE``, so
  a guesser's loop cannot turn refusals into a flood the server must answer;
- every failure writes one audit row, and every throttle one row when it
  begins (not one per refused attempt: a flood must not become a flood of writes).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

Audit = Callable[[str, str, dict[str, str]], None]  # (action, user name, detail)

# A refused attempt is answered after this pause, which costs the server a sleeping coroutine
# and nothing else: a guesser looping on 429 or 503 sends one a second per connection, not
# hundreds (measured: 111 refusals a second held another user's fetch at 2-5 s).
PAUSE = 1.0
MAX_KEYS = 10_000  # the failures remembered; the oldest key goes first beyond this


class Throttled(Exception):
    """Too many failed sign-ins for this user or from this address: try after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class Crowded(Exception):
    """Every argon2 worker is busy and the queue is full: refused at once."""


@dataclass
class _Failures:
    seen: list[tuple[float, str]] = field(default_factory=list)  # (when, address)
    announced: bool = False  # the throttle's audit row is written


class SignInGate:
    """The one place that decides whether a password may be checked, and checks it."""

    def __init__(
        self,
        *,
        user_failures: int,
        address_failures: int,
        window: float,
        audit: Audit,
        workers: int | None = None,
        queue: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_failures = user_failures
        self.address_failures = address_failures
        self.window = window
        self.audit = audit
        self.clock = clock
        # Half the cores at most (one on a small machine): git and the API keep the rest.
        workers = workers or min(4, max(1, (os.cpu_count() or 2) // 2))
        self.capacity = workers + queue
        self.checks = 0  # argon2 checks started (the tests count them)
        self.pause = PAUSE
        self._busy = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gitsync-argon2")
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _recent(self, key: tuple[str, str], now: float) -> _Failures | None:
        found = self._failures.get(key)
        if found is None:
            return None
        found.seen = [(at, address) for at, address in found.seen if at > now - self.window]
        if not found.seen:
            del self._failures[key]
            return None
        return found

    def retry_after(self, name: str, address: str) -> tuple[int, tuple[str, str]] | None:
        """Seconds to wait and the key that is throttled, or None when a check may run."""
        now = self.clock()
        for key, limit in (
            (("user", name), self.user_failures),
            (("address", address), self.address_failures),
        ):
            found = self._recent(key, now)
            if found is None:
                continue
            if len(found.seen) >= limit:
                oldest = found.seen[-limit][0]
                return max(1, math.ceil(oldest + self.window - now)), key
            found.announced = False  # a throttle that begins again is audited again
        return None

    async def verify(self, name: str, address: str, via: str, check: Callable[[], T | None]) -> T:
        """``check()`` (an argon2 verification) when allowed; its answer, or an exception.

        Raises Throttled before any argon2 work, Crowded when the pool is full,
        and PermissionError when the check said no (the failure is counted and audited).
        """
        detail = {"address": address, "via": via}
        throttled = self.retry_after(name, address)
        if throttled is not None:
            wait, key = throttled
            found = self._failures[key]
            if not found.announced:
                found.announced = True
                scope = f"{key[0]} {key[1]}"
                await asyncio.to_thread(
                    self.audit, "sign-in-throttled", name, detail | {"throttled": scope}
                )
            await asyncio.sleep(self.pause)
            raise Throttled(wait)
        if self._busy >= self.capacity:
            await asyncio.sleep(self.pause)
            raise Crowded
        self._busy += 1
        self.checks += 1
        try:
            answer = await asyncio.get_running_loop().run_in_executor(self._pool, check)
        finally:
            self._busy -= 1
        if answer is None:
            self._count(name, address)
            await asyncio.to_thread(self.audit, "sign-in-failed", name, detail)
            raise PermissionError(name)
        self._forget(name, address)
        return answer

    def _count(self, name: str, address: str) -> None:
        now = self.clock()
        for key in (("user", name), ("address", address)):
            found = self._failures.pop(key, None) or _Failures()
            found.seen.append((now, address))
            self._failures[key] = found  # to the end: the most recently failed
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def _forget(self, name: str, address: str) -> None:
        """A right password from ``address``: its own earlier slips for this user are forgiven."""
        found = self._failures.get(("user", name))
        if found is not None:
            found.seen = [(at, where) for at, where in found.seen if where != address]
            if not found.seen:
                del self._failures[("user", name)]
