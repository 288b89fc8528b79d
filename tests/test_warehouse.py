"""The warehouse's promises: atomic replaces, one writer at a time, a publish readers survive.

All data here is synthetic (small made-up frames); nothing touches the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from aiwatch.settings import Settings
from aiwatch.warehouse import (
    Warehouse,
    WarehouseLockTimeout,
    record_rejects,
    replace_rows,
    replace_table,
    row_count,
    split_table_name,
    table_preview,
)

SRC_DIR = Path(__file__).resolve().parents[1] / "src"


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [schema]
    ).fetchall()
    return [r[0] for r in rows]


def _column_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return dict(rows)


def _table_comment(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str | None:
    row = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return None if row is None else row[0]


@pytest.fixture
def warehouse(settings: Settings) -> Warehouse:
    return Warehouse(settings)


def test_writer_creates_the_three_schemas_in_the_build_file(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert {"raw", "staging", "marts"} <= schemas
    assert warehouse.build_path.exists()
    assert not warehouse.published_path.exists()  # a run writes only the build file


@pytest.mark.parametrize(
    "bad", ["marts", "marts.x.y", "Marts.x", "marts.x; drop table raw.y", "raw.1x", 'raw."x"']
)
def test_table_names_are_validated_before_they_touch_sql(bad: str) -> None:
    with pytest.raises(ValueError, match="schema.name"):
        split_table_name(bad)


def test_replace_table_writes_rows_and_comments(warehouse: Warehouse) -> None:
    frame = pl.DataFrame({"cik": [320193, 789019], "ticker": ["AAPL", "MSFT"]})  # synthetic
    with warehouse.writer() as con:
        rows = replace_table(
            con,
            "raw.companies",
            frame,
            comment="Synthetic test companies",
            column_comments={"cik": "SEC central index key", "ticker": "Exchange ticker"},
        )
        assert rows == 2
        assert row_count(con, "raw.companies") == 2
        assert _table_comment(con, "raw", "companies") == "Synthetic test companies"
        assert _column_comments(con, "raw", "companies") == {
            "cik": "SEC central index key",
            "ticker": "Exchange ticker",
        }


def test_replace_table_accepts_arrow_and_quotes_odd_comments(warehouse: Warehouse) -> None:
    table = pa.table({"value": [1.5, 2.5]})
    with warehouse.writer() as con:
        replace_table(con, "staging.values_x", table, column_comments={"value": "it's a 'value'"})
        assert _column_comments(con, "staging", "values_x") == {"value": "it's a 'value'"}


def test_failed_replace_leaves_the_previous_table(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        replace_table(con, "raw.facts", pl.DataFrame({"val": [1, 2, 3]}), comment="v1")
        # The new data goes in, then the comment on a missing column fails: all must roll back.
        with pytest.raises(duckdb.Error, match="no_such_column"):
            replace_table(
                con,
                "raw.facts",
                pl.DataFrame({"val": [9]}),
                comment="v2",
                column_comments={"no_such_column": "oops"},
            )
        assert con.execute("SELECT val FROM raw.facts ORDER BY 1").fetchall() == [(1,), (2,), (3,)]
        assert _table_comment(con, "raw", "facts") == "v1"
        # The connection is usable afterwards (no transaction left open).
        replace_table(con, "raw.facts", pl.DataFrame({"val": [7]}))
        assert row_count(con, "raw.facts") == 1


def _batches(n: int, size: int, fail_at: int | None = None):
    for i in range(n):
        if i == fail_at:
            raise RuntimeError("source broke mid-stream")
        start = i * size
        yield pl.DataFrame(
            {"cik": pl.int_range(start, start + size, eager=True), "val": [float(i)] * size}
        )


BATCH_SCHEMA = pl.Schema({"cik": pl.Int64, "val": pl.Float64})


def test_streaming_replace_in_one_transaction(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        replace_table(con, "raw.sec_companyfacts", pl.DataFrame({"old": [1]}))
        rows = replace_rows(
            con, "raw.sec_companyfacts", BATCH_SCHEMA, _batches(5, 1000),
            key_column="cik", keys=None, comment="synthetic facts",
        )
        assert rows == 5000
        assert con.execute("SELECT count(DISTINCT cik) FROM raw.sec_companyfacts").fetchone() == (
            5000,
        )
        assert _tables(con, "raw") == ["sec_companyfacts"]
        assert _table_comment(con, "raw", "sec_companyfacts") == "synthetic facts"
        types = {r[0]: r[1] for r in con.execute("DESCRIBE raw.sec_companyfacts").fetchall()}
        assert types == {"cik": "BIGINT", "val": "DOUBLE"}


def test_streaming_replace_with_no_batches_gives_an_empty_typed_table(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        assert replace_rows(con, "raw.empty_x", BATCH_SCHEMA, iter([]),
                            key_column="cik", keys=None) == 0
        assert [r[:2] for r in con.execute("DESCRIBE raw.empty_x").fetchall()] == [
            ("cik", "BIGINT"),
            ("val", "DOUBLE"),
        ]


def _fail(con: duckdb.DuckDBPyConnection) -> None:
    raise RuntimeError("the log row could not be written")


@pytest.mark.parametrize("failure", ["source_raises", "bad_batch", "also_raises"])
def test_failed_streaming_replace_leaves_the_old_table(warehouse: Warehouse, failure: str) -> None:
    with warehouse.writer() as con:
        replace_rows(con, "raw.sec_companyfacts", BATCH_SCHEMA, _batches(2, 10),
                     key_column="cik", keys=None)
        also = None
        if failure == "source_raises":
            batches, error = _batches(5, 10, fail_at=3), RuntimeError
        elif failure == "bad_batch":
            good = list(_batches(2, 10))
            batches, error = [*good, pl.DataFrame({"cik": [1], "value": [1.0]})], ValueError
        else:
            batches, error, also = _batches(3, 10), RuntimeError, _fail
        with pytest.raises(error):
            replace_rows(con, "raw.sec_companyfacts", BATCH_SCHEMA, batches,
                         key_column="cik", keys=None, also=also)
        assert row_count(con, "raw.sec_companyfacts") == 20
        assert _tables(con, "raw") == ["sec_companyfacts"]
    # ...and after a reopen (the WAL replayed), still only the old table.
    with warehouse.writer() as con:
        assert _tables(con, "raw") == ["sec_companyfacts"]
        assert row_count(con, "raw.sec_companyfacts") == 20


def test_table_preview_is_markdown(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        replace_table(con, "marts.x", pl.DataFrame({"a": [1, 2, 3], "b": ["p|q", None, "z"]}))
        preview = table_preview(con, "marts.x", limit=2)
    assert preview.splitlines() == ["| a | b |", "| --- | --- |", "| 1 | p\\|q |", "| 2 |  |"]


def test_publish_copies_a_complete_read_only_warehouse(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        replace_table(con, "marts.t", pl.DataFrame({"v": [1, 2]}), comment="published")
    path = warehouse.publish()
    assert path == warehouse.published_path
    assert not list(path.parent.glob("*.tmp-*"))
    with warehouse.reader() as reader:
        assert reader.execute("SELECT sum(v) FROM marts.t").fetchone() == (3,)
        assert _table_comment(reader, "marts", "t") == "published"
        with pytest.raises(duckdb.Error):
            reader.execute("CREATE TABLE marts.y AS SELECT 1")


def test_reader_without_a_published_file_says_what_to_do(warehouse: Warehouse) -> None:
    with pytest.raises(FileNotFoundError, match="run the pipeline"):
        warehouse.reader()
    with pytest.raises(FileNotFoundError, match="nothing to publish"):
        warehouse.publish()


def test_nested_writer_and_publish_in_one_process_do_not_deadlock(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        replace_table(con, "marts.t", pl.DataFrame({"v": [1]}))
        con.execute("CHECKPOINT")
        warehouse.publish()  # re-enters the writer lock held by this thread
    with warehouse.reader() as reader:
        assert reader.execute("SELECT v FROM marts.t").fetchall() == [(1,)]


def _run_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(SRC_DIR), "PATH": "/usr/bin:/bin"},
    )


WRITER_PROCESS = """
    import sys, time
    import polars as pl
    from aiwatch.settings import Settings
    from aiwatch.warehouse import Warehouse, replace_table
    home, who = sys.argv[1], sys.argv[2]
    wh = Warehouse(Settings.from_env({"AIWATCH_HOME": home, "AIWATCH_OFFLINE": "1"}))
    for i in range(4):
        with wh.writer() as con:
            con.execute("CREATE TABLE IF NOT EXISTS raw.log (who VARCHAR, i INTEGER)")
            con.execute("INSERT INTO raw.log VALUES (?, ?)", [who, i])
            # Hold the file a little so the two processes overlap without the lock.
            time.sleep(0.15)
            replace_table(con, "raw.last_" + who, pl.DataFrame({"i": [i]}))
    print("ok")
"""


def test_two_processes_writing_are_serialized(settings: Settings) -> None:
    procs = [_run_python(WRITER_PROCESS, str(settings.home), who) for who in ("a", "b")]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err  # no "Could not set lock on file"
        assert out.strip() == "ok"
    with Warehouse(settings).writer() as con:
        assert con.execute(
            "SELECT who, count(*) FROM raw.log GROUP BY 1 ORDER BY 1"
        ).fetchall() == [
            ("a", 4),
            ("b", 4),
        ]


def test_writer_lock_timeout_names_the_lock_file(settings: Settings) -> None:
    holder = _run_python(
        """
        import sys, time
        from aiwatch.settings import Settings
        from aiwatch.warehouse import Warehouse
        wh = Warehouse(Settings.from_env({"AIWATCH_HOME": sys.argv[1], "AIWATCH_OFFLINE": "1"}))
        with wh.write_lock():
            print("locked", flush=True)
            time.sleep(30)
        """,
        str(settings.home),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        impatient = Warehouse(settings, lock_timeout_seconds=0.2)
        with pytest.raises(WarehouseLockTimeout, match=str(impatient.lock_path)):
            with impatient.writer():
                pass
    finally:
        holder.kill()
        holder.communicate()


READER_PROCESS = """
    import json, sys, time
    from pathlib import Path
    import duckdb
    db, ready, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    held = duckdb.connect(str(db), read_only=True)
    errors, held_versions, fresh_versions, loops = [], set(), set(), 0
    ready.touch()
    # Bounded: stops when told, or after a generous number of loops.
    while loops < 20000 and not (stop.exists() and loops > 0):
        loops += 1
        try:
            # Each version writes 1000 rows all carrying the version: a torn read would show
            # a count other than 1000 or more than one version.
            n, versions = held.execute(
                "SELECT count(*), list(DISTINCT version) FROM marts.t"
            ).fetchone()
            assert n == 1000 and len(versions) == 1, (n, versions)
            held_versions.add(versions[0])
            # A second duckdb.connect() to the same path would reuse this process's cached
            # instance (the old inode); a fresh ATTACH opens the file anew, like a new reader.
            with duckdb.connect() as fresh:
                fresh.execute(f"ATTACH '{db}' AS pub (READ_ONLY)")
                n, versions = fresh.execute(
                    "SELECT count(*), list(DISTINCT version) FROM pub.marts.t"
                ).fetchone()
                assert n == 1000 and len(versions) == 1, (n, versions)
                fresh_versions.add(versions[0])
        except Exception as exc:
            errors.append(repr(exc))
    print(json.dumps({"errors": errors[:5], "error_count": len(errors), "loops": loops,
                      "held": sorted(held_versions), "fresh": sorted(fresh_versions)}))
"""


def _version_frame(version: int) -> pl.DataFrame:
    return pl.DataFrame({"version": [version] * 1000, "row": list(range(1000))})


def test_publish_while_another_process_reads(settings: Settings, tmp_path: Path) -> None:
    warehouse = Warehouse(settings)
    with warehouse.writer() as con:
        replace_table(con, "marts.t", _version_frame(1))
    warehouse.publish()

    ready, stop = tmp_path / "ready", tmp_path / "stop"
    reader = _run_python(READER_PROCESS, str(warehouse.published_path), str(ready), str(stop))
    try:
        for _ in range(600):  # wait (bounded) for the reader to hold the file open
            if ready.exists() or reader.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), reader.communicate()[1]
        for version in range(2, 7):
            # The writer opens only the build file, so the reader neither blocks nor is blocked.
            with warehouse.writer() as con:
                replace_table(con, "marts.t", _version_frame(version))
            warehouse.publish()
        stop.touch()
        out, err = reader.communicate(timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.communicate()
    assert reader.returncode == 0, err
    report = json.loads(out)
    assert report["error_count"] == 0, report["errors"]
    # The connection opened before the publishes keeps reading the old, complete file.
    assert report["held"] == [1]
    assert set(report["fresh"]) <= {1, 2, 3, 4, 5, 6}
    with warehouse.reader() as fresh:
        assert fresh.execute("SELECT DISTINCT version FROM marts.t").fetchall() == [(6,)]


def test_publish_drops_a_wal_left_by_someone_writing_to_the_published_file(
    warehouse: Warehouse,
) -> None:
    with warehouse.writer() as con:
        replace_table(con, "marts.t", pl.DataFrame({"v": [1]}))
    warehouse.publish()
    # A user opens the published file read-write, writes, and their process dies before a
    # checkpoint: a WAL of the old file is left beside it, and DuckDB refuses to open a file
    # with a WAL that is not its own ("WAL does not match database file").
    crash = _run_python(
        """
        import os, sys, duckdb
        con = duckdb.connect(sys.argv[1])
        con.execute("SET wal_autocheckpoint = '1TB'")
        con.execute("INSERT INTO marts.t VALUES (100)")
        os._exit(0)
        """,
        str(warehouse.published_path),
    )
    assert crash.wait(timeout=60) == 0
    wal = warehouse.published_path.with_name(warehouse.published_path.name + ".wal")
    assert wal.exists()
    with warehouse.writer() as con:
        replace_table(con, "marts.t", pl.DataFrame({"v": [2]}))
    warehouse.publish()
    assert not wal.exists()
    with warehouse.reader() as reader:
        assert reader.execute("SELECT v FROM marts.t").fetchall() == [(2,)]


def test_record_rejects_replaces_one_tables_rejects(warehouse: Warehouse) -> None:
    # Synthetic rejects in two parsers' shapes.
    facts_rejects = pl.DataFrame(
        {"cik": [1], "concept": ["Revenues"], "reason": ["unparseable_date"], "source": ["a.json"]}
    )
    other = pl.DataFrame({"line": [3], "reason": ["bad CIK '12x45'"]})
    with warehouse.writer() as con:
        assert record_rejects(con, "raw.sec_companyfacts", [facts_rejects, facts_rejects]) == 2
        assert record_rejects(con, "raw.sp500_membership", other) == 1
        assert record_rejects(con, "raw.sec_companyfacts", [facts_rejects]) == 1
        rows = con.execute(
            "SELECT table_name, source, reason, record->>'concept' FROM raw.rejects ORDER BY 1"
        ).fetchall()
        assert rows == [
            ("raw.sec_companyfacts", "a.json", "unparseable_date", "Revenues"),
            ("raw.sp500_membership", None, "bad CIK '12x45'", None),
        ]
        assert record_rejects(con, "raw.sp500_membership", []) == 0
        assert row_count(con, "raw.rejects") == 1
