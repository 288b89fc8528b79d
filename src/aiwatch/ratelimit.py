"""A request-rate limiter that holds across processes on one machine.

SEC's 10 requests/s is per user, not per process, and Dagster runs steps in separate
processes; per-process limiters (what most EDGAR libraries ship) add up past the limit and get
the user blocked for ~10 minutes. Every process therefore books its slot in one small state
file under an exclusive `flock`: the file holds the next free slot (a `time.time()` value).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# A booked slot further ahead than this is a wall-clock jump (or a stale file), not a queue:
# nobody should wait an hour because the clock was set back.
_MAX_BACKLOG_SECONDS = 600.0


class SharedRateLimiter:
    """At most `rate_per_second` slots per second across every process using `lock_path`.

    Slots are booked under the lock and slept for outside it, so waiting processes do not
    hold the lock; booked slots are spaced exactly 1/rate apart.
    """

    def __init__(
        self,
        lock_path: Path,
        rate_per_second: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not rate_per_second > 0:
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second!r}")
        self.lock_path = Path(lock_path)
        self.rate_per_second = float(rate_per_second)
        self.interval = 1.0 / self.rate_per_second
        self._sleep = sleep
        self._clock = clock
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)

    def reserve(self) -> float:
        """Book the next free slot and return its time (`time.time()` scale) without waiting."""
        # A fresh open file description per call: flock then also excludes threads of this
        # process, and nothing breaks across fork.
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(fd, 64, 0)
                try:
                    next_free = float(raw.decode().strip() or 0.0)
                except ValueError:
                    next_free = 0.0
                now = self._clock()
                if next_free - now > _MAX_BACKLOG_SECONDS:
                    log.warning("rate limiter %s: booked slot %.0f s ahead, resetting",
                                self.lock_path, next_free - now)
                    next_free = now
                slot = max(now, next_free)
                state = repr(slot + self.interval).encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, state, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return slot

    def acquire(self) -> float:
        """Wait for the next free slot; returns the seconds waited."""
        slot = self.reserve()
        wait = slot - self._clock()
        if wait <= 0:
            return 0.0
        self._sleep(wait)
        # time.sleep runs on the monotonic clock, slots on the wall clock: top up a short wake.
        remainder = slot - self._clock()
        if remainder > 0:
            self._sleep(remainder)
        return wait
