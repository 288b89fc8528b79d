"""Shared machinery of the resilience tests (faults, bad input, idempotency, crashes, readers).

A SMALL universe: the bundled snapshot (REAL responses) served by the fake server, with the
membership CSVs cut down to a few tickers, so a full load asks for ~10 companies and runs in
seconds. The cut lists are a test device, not data: rows are dropped, none is changed or added.

`run_full_load` is a whole run at the library level, in the order the Dagster graph runs it
(tickers, membership, seeds, companyfacts, filings, SQL models), publishing after each stage
so a reader sees several publishes during one run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from aiwatch import ingest, membership, sqlmodels
from aiwatch.http import HttpClient
from aiwatch.rawcache import META_SUFFIX
from aiwatch.settings import REPO_ROOT, Settings
from aiwatch.warehouse import Warehouse

SNAPSHOT_DIR = REPO_ROOT / "snapshot"
MEMBERSHIP_HOST = "raw.githubusercontent.com"
TICKERS = ("AAPL", "MSFT", "NVDA", "GOOGL", "GOOG", "AMZN", "META", "FB", "TSLA", "MRVL", "NFLX")
MEMBERSHIP_PATHS = frozenset({
    membership.CONSTITUENTS_PATH, membership.FJA_CURRENT_PATH, membership.INTERVALS_PATH,
    membership.CHANGES_PATH,
})
# A half-built table would carry this suffix (the name earlier streaming loads used); loads are
# single transactions now, so none may ever exist.
LOADING_SUFFIX = "__loading"
SEC_USER_AGENT = "aiwatch-resilience resilience-tests@example.com"
SEEDS = ("mag7", "hyperscalers", "ai_basket", "splits", "deals", "claims")
COMPANYFACTS_KEY = "data.sec.gov/api/xbrl/companyfacts/CIK{cik:010d}.json"
APPLE, MICROSOFT, NVIDIA = 320193, 789019, 1045810


def small_docroot(root: Path, tickers: tuple[str, ...] = TICKERS) -> Path:
    """`root` laid out like snapshot/, membership CSVs filtered to `tickers`.

    Hard links where possible (fast, no space; the fake server refuses symlinks that resolve
    outside its root), copies otherwise. Tests that change a file must `replace_file`, never
    write through a link into the bundled snapshot."""
    for path in SNAPSHOT_DIR.rglob("*"):
        if path.is_dir() or path.name.endswith(META_SUFFIX):
            continue
        target = root / path.relative_to(SNAPSHOT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        rel = path.relative_to(SNAPSHOT_DIR).as_posix()
        if rel.startswith(MEMBERSHIP_HOST + "/") and rel[len(MEMBERSHIP_HOST):] in MEMBERSHIP_PATHS:
            target.write_text(_filtered_csv(path.read_text(), set(tickers)))
            continue
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    return root


def replace_file(path: Path, data: bytes) -> None:
    """Give `path` new content without touching the file it may be hard-linked to."""
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _filtered_csv(text: str, tickers: set[str]) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    keep = [r for r in body if {c.strip() for cell in r for c in cell.split(",")} & tickers]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *keep])
    return out.getvalue()


def live_settings(server_env: dict[str, str], home: Path, **env: str) -> Settings:
    """Settings of a 'live' run (user agent set) whose base URLs point at the fake server."""
    base = {
        **server_env,
        "AIWATCH_HOME": str(home),
        "AIWATCH_SEC_USER_AGENT": SEC_USER_AGENT,
        # The fake server is local; SEC's real budget is not at stake.
        "AIWATCH_SEC_RATE": "500",
        # Every SEC load refetches every member (the refresh's full mode), so faults queued on
        # a company's URL are met whatever the last run did; the daily plan is test_refresh's.
        "AIWATCH_FULL_REFRESH": "1",
        **env,
    }
    return Settings.from_env(base).with_(http_timeout_seconds=2.0, http_max_retries=4)


def fast_client(settings: Settings) -> HttpClient:
    """A client whose retries do not wait (the schedule is the client's; waiting is not)."""
    return HttpClient(settings, sleep=lambda seconds: None, backoff_base=0.0, backoff_cap=0.0)


@dataclass
class RunReport:
    results: dict[str, ingest.LoadResult] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)
    publishes: int = 0


def run_full_load(
    settings: Settings,
    *,
    client: HttpClient | None = None,
    publish_each_stage: bool = True,
    on_stage: Callable[[str], None] | None = None,
) -> RunReport:
    """Every raw load, every SQL model, and publishes: one whole run, as the schedule does it."""
    report = RunReport()
    wh = Warehouse(settings)
    own_client = client is None
    client = client or fast_client(settings)

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)
        if publish_each_stage:
            wh.publish()
            report.publishes += 1

    try:
        report.results["raw.sec_tickers"] = ingest.load_sec_tickers(client, wh)
        stage("sec_tickers")
        report.results["raw.sp500_membership"] = ingest.load_sp500_membership(client, wh)
        stage("sp500_membership")
        for seed in SEEDS:
            report.results[f"raw.{seed}"] = ingest.load_seed(wh, seed, f"seed {seed}")
        stage("seeds")
        ciks = ingest.member_ciks(wh, settings.window_start)
        # The pipeline's path: aiwatch.refresh (full mode with live_settings).
        report.results["raw.sec_companyfacts"] = ingest.load_sec_companyfacts(client, wh, ciks)
        stage("sec_companyfacts")
        report.results["raw.sec_filings"] = ingest.load_sec_filings(
            client, wh, ciks, settings.window_start
        )
        stage("sec_filings")
        with wh.writer() as con:
            report.models = sqlmodels.run_all(
                con, runnable_models(con, settings),
                sqlmodels.model_variables(settings),
            )
        stage("models")
    finally:
        if own_client:
            client.close()
    if not publish_each_stage:
        wh.publish()
        report.publishes += 1
    return report


def runnable_models(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[sqlmodels.SqlModel]:
    """The models whose raw inputs this run loads (prices and FRED are not loaded here: models
    reading them are left out, with their dependants), in dependency order."""
    present = set(tables(con))
    runnable: list[sqlmodels.SqlModel] = []
    for model in sqlmodels.discover(settings.sql_dir):
        if all(dep in present for dep in model.deps):
            runnable.append(model)
            present.add(model.table)
    return runnable


# -- what a run leaves behind ------------------------------------------------------------------

def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
    ]


# Columns that record when a run happened, not what it computed.
VOLATILE_COLUMNS = {"raw.rejects": ("recorded_at",)}
# Tables that log the runs themselves (one row per load: when, requests, 304s): they grow with
# every run by design, so "same state" comparisons leave them out; tests check them apart.
RUN_LOG_TABLES = frozenset({"raw.refresh_log"})


def table_hash(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    """(rows, md5 over the rows in a total order): equal iff the contents are equal."""
    schema, name = table.split(".")
    columns = [
        c for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "order by column_index", [schema, name]
        ).fetchall()
        if c not in VOLATILE_COLUMNS.get(table, ())
    ]
    row = "row(" + ", ".join(f'"{c}"' for c in columns) + ")::varchar"
    rows, digest = con.execute(
        f"select count(*), coalesce(md5(string_agg({row}, '|' order by {row})), '') "
        f"from {table}"
    ).fetchone()
    return int(rows), str(digest)


def table_hashes(db_path: Path) -> dict[str, tuple[int, str]]:
    """Every table's (rows, content hash) in the database at `db_path`, opened read-only; run
    logs (RUN_LOG_TABLES) left out."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {table: table_hash(con, table) for table in tables(con)
                if table not in RUN_LOG_TABLES}


def loading_tables(db_path: Path) -> list[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return [t for t in tables(con) if t.endswith(LOADING_SUFFIX)]


def raw_cache_problems(raw_dir: Path) -> list[str]:
    """Partial or orphaned raw-cache files: a body without a meta whose sha256 matches it, a
    meta without its body, or anything stray (temp files). `_rejected/` is inspected alike."""
    problems = []
    if not raw_dir.exists():
        return problems
    for path in sorted(raw_dir.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(raw_dir)
        if path.name.endswith(".tmp") or path.name.startswith("."):
            problems.append(f"stray temp file {rel}")
        elif path.name.endswith(META_SUFFIX):
            body = path.with_name(path.name[: -len(META_SUFFIX)])
            if not body.exists():
                problems.append(f"meta without body {rel}")
        else:
            meta_file = path.with_name(path.name + META_SUFFIX)
            try:
                meta = json.loads(meta_file.read_bytes())
            except (OSError, ValueError):
                problems.append(f"body without a readable meta {rel}")
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != meta.get("sha256"):
                problems.append(f"body does not match its meta sha256 {rel}")
    return problems


def company_rows_hash(db_path: Path, cik: int) -> tuple[int, str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows, digest = con.execute(
            "select count(*), coalesce(md5(string_agg(c::varchar, '|' "
            "order by c::varchar)), '') from raw.sec_companyfacts c where cik = ?",
            [cik],
        ).fetchone()
    return int(rows), str(digest)
