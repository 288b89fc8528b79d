"""The short CI version of the crash harness (`tests/crash_harness.py`, whose docstring says
what is checked): one SIGKILL in each phase (download, parse, warehouse write, publish), then a
complete run whose tables must equal a clean run's row for row."""

from __future__ import annotations

from pathlib import Path

from crash_harness import PHASES, run_harness


def test_kills_in_every_phase_leave_a_complete_state_and_the_next_run_heals(
    tmp_path: Path,
) -> None:
    tally = run_harness(kills=len(PHASES), seed=7, workdir=tmp_path, complete_every=len(PHASES),
                        log=False)
    assert tally.problems == []
    assert tally.kills + tally.completed_runs >= len(PHASES)
    assert tally.kills >= 3  # a run may end before a late kill lands; most must land
    assert tally.states_checked >= tally.kills
