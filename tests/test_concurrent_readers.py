"""Users query the published file at any time: while a full run writes and publishes (after each
stage), 8 reader processes open it read-only and query in a loop for the whole run. Zero
errors; the latency maximum is reported, not asserted (no timed assertions in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from fakeserver import FakeServer
from resilience import live_settings, run_full_load, small_docroot

READERS = 8

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    db, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    queries, errors, latency_max, seen = 0, [], 0.0, set()
    while not stop.exists():
        started = time.perf_counter()
        try:
            # A fresh connection each time, as a user's shell or notebook opens the file.
            with duckdb.connect(str(db), read_only=True) as con:
                facts = con.execute("select count(*) from raw.sec_companyfacts").fetchall()[0][0]
                share = con.execute(
                    "select count(*), max(mag7_share) from marts.mag7_earnings_share"
                ).fetchall()[0]
                seen.add((facts, share[0]))
            queries += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        latency_max = max(latency_max, time.perf_counter() - started)
    out.write_text(json.dumps({"queries": queries, "errors": errors[:20],
                               "error_count": len(errors), "latency_max": latency_max,
                               "states": len(seen)}))
    """
)


def test_eight_readers_query_the_published_file_through_a_whole_run(tmp_path: Path) -> None:
    docroot = small_docroot(tmp_path / "docroot")
    stop = tmp_path / "stop"
    with FakeServer(docroot) as server:
        settings = live_settings(server.env(), tmp_path / "home")
        run_full_load(settings, publish_each_stage=False)  # there is a published file to read
        readers = [
            subprocess.Popen([sys.executable, "-c", READER, str(settings.db_path), str(stop),
                              str(tmp_path / f"reader{i}.json")])
            for i in range(READERS)
        ]
        try:
            time.sleep(1.0)  # every reader is in its loop before the writer starts
            report = run_full_load(settings)  # publishes after each stage
        finally:
            stop.touch()
            for reader in readers:
                reader.wait(timeout=60)
    assert report.publishes >= 2
    results = [json.loads((tmp_path / f"reader{i}.json").read_text()) for i in range(READERS)]
    latency_max = max(r["latency_max"] for r in results)
    print(f"{sum(r['queries'] for r in results)} queries by {READERS} readers during "
          f"{report.publishes} publishes; max latency "
          f"{latency_max * 1000:.0f} ms")
    assert [r["errors"] for r in results] == [[] for _ in results]
    assert all(r["queries"] > 0 for r in results)
