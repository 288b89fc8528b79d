"""Crash consistency: SIGKILL a full run at seeded random points, then check what users see.

    .venv/bin/python tests/crash_harness.py --kills 20 --seed 1

A local fake server serves the small universe (tests/resilience.py). A clean run in its own
home gives the reference tables. Then, in one crash home, full runs start in a subprocess and
are killed with SIGKILL, each in a target phase (download, parse, warehouse write, publish, in
turn) at a seeded random occurrence of that phase plus a random few milliseconds; the child
marks each phase entry in a file, so the kill lands where it was aimed. After every kill:

- the published database, if one exists yet, opens read-only, has no `__loading` table, and
  every table in it equals the reference's table row for row (ordered content hash): it is a
  complete earlier state, never a half-written one (inputs are fixed, so every complete state
  holds the reference's rows);
- no raw-cache body is partial: every body either matches its meta's sha256, or is treated as
  missing by the cache (a kill between body and meta), and the next run repairs it;
- every few kills, and at the end, a run completes, and its tables equal the reference's.

Exit status 0 when every check held. `tests/test_crash.py` runs a short version in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS_DIR))

PHASES = ("download", "parse", "write", "publish")


# -- the child: one full run that marks its phases ----------------------------------------------

def _child(home: Path, marks: Path) -> None:
    from resilience import live_settings, run_full_load

    from aiwatch import http, membership, sqlmodels, warehouse
    from aiwatch.sec import companyfacts, submissions

    out = open(marks, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    def marking(owner: object, name: str, phase: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            out.write(phase + "\n")
            return original(*args, **kwargs)

        setattr(owner, name, wrapper)

    marking(http.HttpClient, "_get", "download")
    for owner, name in [(companyfacts, "parse_with_rejects"), (submissions, "parse"),
                        (membership, "build_membership")]:
        marking(owner, name, "parse")
    for name in ("replace_table", "replace_rows", "record_rejects"):
        marking(warehouse, name, "write")
    marking(sqlmodels, "replace_table_from_query", "write")
    marking(warehouse.Warehouse, "publish", "publish")
    env = json.loads(os.environ["AIWATCH_HARNESS_ENV"])
    out.write("start\n")
    run_full_load(live_settings(env, home))
    out.write("done\n")


# -- the parent ----------------------------------------------------------------------------------

@dataclass
class Tally:
    kills: int = 0
    completed_runs: int = 0
    phases: Counter = field(default_factory=Counter)
    states_checked: int = 0
    cache_bodies_treated_as_missing: int = 0
    stray_temp_files: int = 0
    problems: list[str] = field(default_factory=list)
    # Left behind at the end (never read, but disk a kill leaked): raw-cache temp files and
    # publish copies (`aiwatch.duckdb.tmp-<pid>`).
    leftovers: list[str] = field(default_factory=list)


def _spawn(home: Path, marks: Path, env: dict[str, str]) -> subprocess.Popen:
    marks.write_text("")
    return subprocess.Popen(
        [sys.executable, __file__, "--child", "--home", str(home), "--marks", str(marks)],
        env={**os.environ, "AIWATCH_HARNESS_ENV": json.dumps(env)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _phase_counts(marks: Path) -> Counter:
    try:
        return Counter(marks.read_text().split())
    except OSError:
        return Counter()


def _run_to_end(home: Path, marks: Path, env: dict[str, str]) -> Counter:
    child = _spawn(home, marks, env)
    _, err = child.communicate(timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"a full run failed (exit {child.returncode}):\n{err.decode()[-3000:]}")
    return _phase_counts(marks)


def _check_published(db_path: Path, reference: dict, tally: Tally, label: str) -> None:
    from resilience import loading_tables, table_hashes

    if not db_path.exists():
        return
    try:
        hashes = table_hashes(db_path)
        loading = loading_tables(db_path)
    except Exception as exc:  # the published file must always open
        tally.problems.append(f"{label}: published database does not open: {exc}")
        return
    tally.states_checked += 1
    if loading:
        tally.problems.append(f"{label}: published database has loading tables {loading}")
    for table, digest in hashes.items():
        if reference.get(table) != digest:
            tally.problems.append(
                f"{label}: published {table} {digest} is not a complete state "
                f"(reference {reference.get(table)})"
            )


def _check_cache(raw_dir: Path, tally: Tally, label: str, *, final: bool) -> None:
    from resilience import raw_cache_problems

    for problem in raw_cache_problems(raw_dir):
        if problem.startswith("stray temp file"):
            # Never read (not a cache key); counted, and reported by the final summary.
            tally.stray_temp_files += 1
        elif problem.startswith(("body does not match", "body without a readable meta")) and (
            not final
        ):
            # Killed between body and meta (of a refetch, or of a first fetch: no meta yet; the
            # refresh downloads in threads, so a kill aimed at any phase can land there):
            # `rawcache.read` treats the pair as missing and the next run fetches it again
            # (checked by `final`).
            tally.cache_bodies_treated_as_missing += 1
        else:
            tally.problems.append(f"{label}: raw cache: {problem}")


def run_harness(kills: int, seed: int, workdir: Path, complete_every: int = 5,
                log: bool = True) -> Tally:
    from fakeserver import FakeServer
    from resilience import small_docroot, table_hashes

    rng = random.Random(seed)
    tally = Tally()
    docroot = small_docroot(workdir / "docroot")
    say = print if log else (lambda *a, **k: None)
    with FakeServer(docroot) as server:
        env = server.env()
        reference_home = workdir / "reference"
        reference_counts = _run_to_end(reference_home, workdir / "reference.marks", env)
        reference = table_hashes(reference_home / "aiwatch.duckdb")
        say(f"reference run: {len(reference)} tables, phases {dict(reference_counts)}")
        home, marks = workdir / "crashed", workdir / "crashed.marks"
        db_path = home / "aiwatch.duckdb"
        for index in range(kills):
            phase = PHASES[index % len(PHASES)]
            occurrence = rng.randint(1, max(1, reference_counts[phase]))
            extra = rng.uniform(0.0, 0.03)
            child = _spawn(home, marks, env)
            killed = False
            while child.poll() is None:
                if _phase_counts(marks)[phase] >= occurrence:
                    time.sleep(extra)
                    child.send_signal(signal.SIGKILL)
                    killed = True
                    break
                time.sleep(0.002)
            child.wait()
            label = f"kill {index + 1} ({phase} #{occurrence} +{extra * 1000:.0f} ms)"
            if killed and child.returncode == -signal.SIGKILL:
                tally.kills += 1
                tally.phases[phase] += 1
            else:
                tally.completed_runs += 1
                label += " [run ended before the kill]"
            _check_published(db_path, reference, tally, label)
            _check_cache(home / "raw", tally, label, final=False)
            say(f"{label}: {'killed' if killed else 'completed'}, problems so far "
                f"{len(tally.problems)}")
            if (index + 1) % complete_every == 0 or index + 1 == kills:
                _run_to_end(home, marks, env)
                tally.completed_runs += 1
                final = table_hashes(db_path)
                if final != reference:
                    differing = sorted(t for t in set(final) | set(reference)
                                       if final.get(t) != reference.get(t))
                    tally.problems.append(f"after {label}: the next full run differs from the "
                                          f"clean run in {differing}")
                _check_published(db_path, reference, tally, f"after {label}")
                _check_cache(home / "raw", tally, f"after {label}", final=True)
        tally.leftovers = sorted(
            p.relative_to(home).as_posix() for p in home.rglob("*")
            if p.is_file() and (".tmp" in p.name or p.name.startswith("."))
        )
        # A leftover publish copy is a whole warehouse per kill: the next publish must remove it.
        tally.problems += [f"publish copy left behind: {p}" for p in tally.leftovers
                           if ".duckdb.tmp-" in p]
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--marks", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.home, args.marks)
        return 0
    with tempfile.TemporaryDirectory(prefix="aiwatch-crash-") as tmp:
        workdir = args.workdir or Path(tmp)
        started = time.monotonic()
        tally = run_harness(args.kills, args.seed, workdir)
    print(
        f"\n{tally.kills} kills survived ({dict(tally.phases)}), {tally.completed_runs} "
        f"complete runs, {tally.states_checked} published states checked, "
        f"{tally.cache_bodies_treated_as_missing} cache bodies left unmatched by a kill "
        f"(treated as missing, repaired), {tally.stray_temp_files} stray temp files, "
        f"{len(tally.problems)} problems, {time.monotonic() - started:.0f} s"
    )
    for leftover in tally.leftovers:
        print("LEFT BEHIND:", leftover)
    for problem in tally.problems:
        print("PROBLEM:", problem)
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
