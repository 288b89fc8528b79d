"""Two runs over the same inputs give identical tables (ordered content hashes), whether the
second run starts from the first one's home (revalidation, nothing downloaded) or from an empty
one; and no key is duplicated anywhere."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from fakeserver import FakeServer
from resilience import live_settings, run_full_load, small_docroot, table_hashes

from aiwatch import sqlmodels
from aiwatch.settings import REPO_ROOT

# Natural keys of the raw tables (the marts' keys are their `__unique_key` audits).
RAW_KEYS = {
    "raw.sec_tickers": "cik, ticker",
    "raw.sp500_membership": "ticker, start_date",
    "raw.sec_filings": "cik, accn",
    "raw.mag7": "ticker",
}


@pytest.fixture(scope="module")
def two_homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict, dict]:
    root = tmp_path_factory.mktemp("idempotency")
    docroot = small_docroot(root / "docroot")
    with FakeServer(docroot) as server:
        first = live_settings(server.env(), root / "first")
        second = live_settings(server.env(), root / "second")
        run_full_load(first)
        hashes_once = table_hashes(first.db_path)
        run_full_load(first)  # again, same home: everything revalidates (304)
        run_full_load(second)  # an empty home: everything downloads
    return first.db_path, second.db_path, root, hashes_once, table_hashes(first.db_path)


def test_a_second_run_in_the_same_home_changes_no_table(two_homes) -> None:
    _, _, _, once, twice = two_homes
    assert len(once) >= 20
    assert {t: h for t, h in twice.items() if once.get(t) != h} == {}


def test_a_run_from_an_empty_home_builds_the_same_tables(two_homes) -> None:
    first, second, _, _, twice = two_homes
    other = table_hashes(second)
    assert set(other) == set(twice)
    assert {t: (twice[t], other[t]) for t in twice if twice[t] != other[t]} == {}


def test_no_duplicate_keys_in_raw_tables(two_homes) -> None:
    first = two_homes[0]
    with duckdb.connect(str(first), read_only=True) as con:
        for table, key in RAW_KEYS.items():
            dupes = con.execute(
                f"select {key}, count(*) from {table} group by all having count(*) > 1 limit 5"
            ).fetchall()
            assert dupes == [], (table, dupes)
        # companyfacts keeps every row as filed; a rerun must not add copies of any of them.
        ((rows, distinct),) = con.execute(
            "select count(*), count(distinct (cik, taxonomy, concept, unit, start, \"end\", val, "
            "accn, fy, fp, form, filed, frame)) from raw.sec_companyfacts"
        ).fetchall()
        assert rows - distinct < rows * 0.001  # SEC's own exact repeats only, not a doubling


def test_unique_key_audits_find_nothing(two_homes) -> None:
    first = two_homes[0]
    audits = [a for a in sqlmodels.discover_audits(REPO_ROOT / "sql") if "unique" in a.name]
    assert audits
    with duckdb.connect(str(first), read_only=True) as con:
        present = {f"{s}.{n}" for s, n in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        checked = 0
        for audit in audits:
            if audit.table not in present:
                continue
            assert con.execute(audit.sql).fetchall() == [], audit.name
            checked += 1
    assert checked >= 4


def test_the_refresh_log_records_each_run_and_only_that(two_homes) -> None:
    """raw.refresh_log is left out of the table comparisons (it logs runs); here it must hold
    exactly one row per SEC table per run: two runs in the first home, one in the second."""
    first, second = two_homes[0], two_homes[1]
    for db_path, runs in ((first, 2), (second, 1)):
        with duckdb.connect(str(db_path), read_only=True) as con:
            counts = dict(con.execute(
                "select table_name, count(*) from raw.refresh_log group by 1").fetchall())
        assert counts == {"raw.sec_companyfacts": runs, "raw.sec_filings": runs}
