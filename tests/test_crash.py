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


def test_publish_removes_the_copy_a_killed_publish_left_behind(tmp_path: Path) -> None:
    # A SIGKILL during the copy skips publish's own cleanup (seen by the harness: a whole
    # warehouse left as aiwatch.duckdb.tmp-<pid>); the next publish removes it.
    import duckdb

    from aiwatch.settings import Settings
    from aiwatch.warehouse import Warehouse

    wh = Warehouse(Settings.from_env({"AIWATCH_HOME": str(tmp_path / "home")}))
    with wh.writer() as con:
        con.execute("create table raw.t as select 1 as x")
    stale = wh.published_path.with_name(f"{wh.published_path.name}.tmp-999999")
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half a warehouse")
    wh.publish()
    assert not stale.exists()
    with duckdb.connect(str(wh.published_path), read_only=True) as con:
        assert con.execute("select x from raw.t").fetchall() == [(1,)]
