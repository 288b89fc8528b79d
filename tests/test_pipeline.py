"""The Dagster code location end to end: the asset graph, the schedule, and a full in-process
materialization against the local fake server serving the bundled snapshot."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from fakeserver import FakeServer
from resilience import SNAPSHOT_DIR, TICKERS, small_docroot

from aiwatch import membership
from aiwatch.settings import Settings

# The graph users see in the UI. A change here is a change to the product: review it.
EXPECTED_RAW_ASSETS = {
    "raw/sec_tickers",
    "raw/sp500_membership",
    "raw/mag7",
    "raw/sec_companyfacts",
    "raw/sec_filings",
    "raw/prices_daily",
    "raw/fred_series",
}


@contextmanager
def _serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tickers: tuple[str, ...] = TICKERS
) -> Iterator[tuple[FakeServer, Settings]]:
    """A 'live' run (user agent set, not offline) whose base URLs point at the fake server,
    which serves the real snapshot with membership cut to `tickers`."""
    with FakeServer(small_docroot(tmp_path / "docroot", tickers)) as server:
        env = {
            **server.env(),
            "AIWATCH_HOME": str(tmp_path / "home"),
            "AIWATCH_SEC_USER_AGENT": "aiwatch-tests tests@example.com",
            # The test of the limit itself runs at the real rate; this one only needs speed.
            "AIWATCH_SEC_RATE": "100",
        }
        monkeypatch.delenv("AIWATCH_OFFLINE", raising=False)
        monkeypatch.delenv("AIWATCH_DB", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield server, Settings.from_env(env)


@pytest.fixture
def live_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with _serving(tmp_path, monkeypatch) as served:
        yield served


def _defs() -> dg.Definitions:
    from pipelines.definitions import defs

    return defs


def test_asset_graph_has_the_raw_assets_and_one_asset_per_sql_file() -> None:
    defs = _defs()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert EXPECTED_RAW_ASSETS <= keys
    sql_dir = Settings.from_env({}).sql_dir
    for path in [*sql_dir.glob("staging/*.sql"), *sql_dir.glob("marts/*.sql")]:
        assert f"{path.parent.name}/{path.stem}" in keys
    assert "warehouse/published" in keys


def test_daily_schedule_runs_everything_and_starts_running() -> None:
    schedule = _defs().resolve_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "0 9 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_full_materialization_against_the_fake_server_fills_raw_tables(live_env) -> None:
    server, settings = live_env
    defs = _defs()
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks], resources=defs.resources
    )
    assert result.success
    assert any(entry.headers.get("User-Agent") == settings.sec_user_agent for entry in server.log)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        counts = dict(
            con.execute(
                "select schema_name || '.' || table_name, estimated_size from duckdb_tables()"
            ).fetchall()
        )
        assert con.execute("select count(*) from raw.sec_tickers").fetchone()[0] > 9000
        assert con.execute("select count(distinct cik) from raw.sec_companyfacts").fetchone()[0] == 8
        # Apple's FY2024 net income as filed in its 10-K (accession 0000320193-24-000123).
        assert con.execute(
            "select count(*) from raw.sec_companyfacts where cik = 320193 and concept = "
            "'NetIncomeLoss' and \"end\" = date '2024-09-28' and val = 93736000000"
        ).fetchone()[0] >= 1
    # DESCRIBE prints no comments in DuckDB; the dictionary view explains every mart column.
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        described = con.execute(
            "select column_name, column_comment from marts.data_dictionary "
            "where table_name = 'mag7_earnings_share'"
        ).fetchall()
    assert len(described) > 5 and all(comment for _, comment in described)
    assert {"raw.sec_tickers", "raw.sp500_membership", "raw.mag7", "raw.sec_companyfacts",
            "raw.sec_filings", "marts.mag7_earnings_share", "marts.capex_growth"} <= set(counts)
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    # Every mart's key is unique; on a dozen companies the coverage check must fail, loudly.
    assert checks[("marts/mag7_earnings_share", "unique_key")]
    assert checks[("marts/fundamentals_quarterly", "unique_key")]
    assert not checks[("marts/mag7_earnings_share", "coverage")]
    # Every company's documents were served (the snapshot lacks some: missing, not failed).
    assert checks[("raw/sec_companyfacts", "fetch_complete")]


SEC_HOSTS = ("/data.sec.gov/", "/www.sec.gov/")


def _more_tickers(n: int) -> tuple[str, ...]:
    """The dozen test tickers plus the first `n` current constituents (most have no snapshot
    payload: a 404 is still a request that counts against the rate)."""
    constituents = (SNAPSHOT_DIR / "raw.githubusercontent.com" / membership.CONSTITUENTS_PATH[1:])
    symbols = [line.split(",")[0] for line in constituents.read_text().splitlines()[1 : n + 1]]
    return (*TICKERS, *symbols)


def test_sec_rate_holds_across_two_dagster_step_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SEC's limit is per user: companyfacts and submissions fetched by two step processes at
    once must together stay under the one configured rate, measured at the server."""
    from dagster_jobs import sec_fetch_job

    rate = 8.0
    # Step processes import the job module by name; give them the tests folder on their path.
    tests_dir = str(Path(__file__).parent)
    monkeypatch.syspath_prepend(tests_dir)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))
    )
    # ~45 companies per asset: each step fetches for several seconds, so the two overlap even
    # when one process starts a few seconds after the other on a loaded machine.
    with _serving(tmp_path, monkeypatch, _more_tickers(35)) as (server, _):
        monkeypatch.setenv("AIWATCH_SEC_RATE", str(rate))
        defs = _defs()
        upstream = ["raw/sec_tickers", "raw/sp500_membership", "raw/mag7"]
        assert dg.materialize([*defs.assets], resources=defs.resources, selection=upstream).success
        server.log.clear()
        (tmp_path / "dagster").mkdir()
        with dg.DagsterInstance.local_temp(str(tmp_path / "dagster")) as instance:
            result = dg.execute_job(dg.reconstructable(sec_fetch_job), instance=instance)
            assert result.success
        log = list(server.log)

    sec = sorted(e.t for e in log if e.path.startswith(SEC_HOSTS))
    assert len(sec) >= 60
    facts = [e.t for e in log if "/companyfacts/" in e.path]
    filings = [e.t for e in log if "/submissions/" in e.path]
    # The two processes really fetched at the same time (their request spans overlap) ...
    assert max(min(facts), min(filings)) < min(max(facts), max(filings))
    # ... and together never beat the rate: any n consecutive requests span (n-1)/rate,
    # less a little scheduling slack between the limiter's slot and the server's clock.
    window = 8
    for first, last in zip(sec, sec[window - 1 :], strict=False):
        assert last - first >= (window - 1) / rate - 0.15
