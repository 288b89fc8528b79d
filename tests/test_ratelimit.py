"""The shared rate limiter holds across OS processes, as SEC's per-user limit requires."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from aiwatch.ratelimit import SharedRateLimiter

RATE = 20.0
PER_PROCESS = 12


def _hammer(lock_path: str, n: int, queue: multiprocessing.Queue) -> None:
    limiter = SharedRateLimiter(Path(lock_path), RATE)
    slots, woke = [], []
    for _ in range(n):
        slot = limiter.reserve()
        remaining = slot - time.time()
        if remaining > 0:
            time.sleep(remaining)
        slots.append(slot)
        woke.append(time.time())
    waited = [limiter.acquire() for _ in range(2)]
    queue.put((slots, woke, waited))


def test_slots_across_three_processes_never_closer_than_one_interval(tmp_path: Path) -> None:
    lock_path = tmp_path / "locks" / "ratelimit-sec.state"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_hammer, args=(str(lock_path), PER_PROCESS, queue))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    slots = sorted(slot for slots, _, _ in results for slot in slots)
    assert len(slots) == 3 * PER_PROCESS
    interval = 1 / RATE
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    # Slots are booked under the lock: exactly one interval apart (float rounding aside).
    assert min(gaps) >= interval - 1e-6
    # Nobody ran before its slot (sleep never returns early on the wall clock we book on,
    # beyond a millisecond of clock granularity).
    for slots_of_one, woke, waited in results:
        assert all(w >= s - 1e-3 for s, w in zip(slots_of_one, woke, strict=True))
        assert all(x >= 0 for x in waited)


def test_acquire_sleeps_until_booked_slot(tmp_path: Path) -> None:
    now = [1000.0]
    slept: list[float] = []

    def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = SharedRateLimiter(tmp_path / "l.state", 4.0, sleep=fake_sleep, clock=lambda: now[0])
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.25)
    assert limiter.acquire() == pytest.approx(0.25)
    now[0] += 10  # idle time is not banked as a burst
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.25)
    assert slept == pytest.approx([0.25, 0.25, 0.25])


def test_clock_jump_back_does_not_block_for_an_hour(tmp_path: Path) -> None:
    state = tmp_path / "l.state"
    state.write_text(repr(time.time() + 3600))
    assert SharedRateLimiter(state, 10.0).reserve() <= time.time() + 1


def test_rejects_non_positive_rate(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SharedRateLimiter(tmp_path / "l.state", 0)
