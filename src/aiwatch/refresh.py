"""Incremental daily SEC refresh: download only the companies that filed, rewrite only their rows.

Why. The S&P 500's companyfacts are ~500 documents and ~13M rows; on a typical day a handful of
members file. A run therefore:

1. reads the state of the last successful load of the table from `raw.refresh_log` (one row per
   load, written in the same transaction as the rows it describes, so the log never claims a
   load that rolled back);
2. plans with `daily_index.plan_refresh`: `full` (no earlier load, `AIWATCH_FULL_REFRESH=1`, or
   the table is missing), a weekly conditional `sweep` (every member revalidated with
   If-None-Match / If-Modified-Since: a 304 costs no download and catches what an index
   missed), or `incremental`: read each business day's `form.YYYYMMDD.idx` (403/404 = no index
   that day) and refetch only members with a relevant filing (`daily_index.changed_ciks`), plus
   members that have no cached payload yet (new members);
3. replaces only the rows of companies whose payload changed (DELETE + INSERT in one
   transaction, `warehouse.replace_rows`); every other company keeps its rows, which are the
   parse of its cached payload, exactly what a full rebuild from the raw cache would write.

An index that cannot be read (5xx after retries) turns the run into a sweep instead of guessing.
Optional bulk mode (`AIWATCH_BULK=1`) streams SEC's nightly `companyfacts.zip` member by member
(`sec.bulk.iter_companyfacts`), for members or, with `AIWATCH_ALL_FILERS=1`, every filer, into
the same spool (`_spool_bulk`) before the one streamed load.

Downloads run in a small thread pool sharing the client: SEC's rate is held by the shared
limiter (thread- and process-safe), and a response's latency then overlaps the spacing of the
next requests instead of adding to it. No request is made under the single-writer lock: each
company is parsed into a Parquet spool as its download ends (by two parser threads, so a
download thread goes straight back to the limiter), and the writer lock is taken only to read
the plan and, at the end, to load the spool in one streamed statement (`_Spool`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import requests

from aiwatch import rawcache, warehouse
from aiwatch.http import FetchError, HttpClient, NotFoundError
from aiwatch.ingest import LoadResult, companyfacts_path, submissions_path
from aiwatch.sec import bulk, companyfacts, daily_index, submissions
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse

log = logging.getLogger(__name__)

REFRESH_LOG = "raw.refresh_log"
# Which cached payload (sha256) each company's rows were built from, per table.
PAYLOADS = "raw.refresh_payloads"
COMPANYFACTS_TABLE = "raw.sec_companyfacts"
FILINGS_TABLE = "raw.sec_filings"
# companyfacts.zip is ~1-2 GB; the client's default cap (256 MiB) is for single documents.
BULK_MAX_BYTES = 16 * 2**30
# Rows per Parquet file when spooling companyfacts.zip (~50 MB of frames held at a time).
BULK_SPOOL_ROWS = 500_000
DEFAULT_WORKERS = 4

_LOG_DDL = (
    f"CREATE TABLE IF NOT EXISTS {REFRESH_LOG} (run_at TIMESTAMP WITH TIME ZONE, "
    "table_name VARCHAR, run_day DATE, mode VARCHAR, reason VARCHAR, days_read INTEGER, "
    "ciks_refetched INTEGER, requests INTEGER, bytes_downloaded BIGINT, not_modified INTEGER)"
)
_LOG_COMMENT = (
    "One row per load of an SEC raw table: mode (full, sweep, incremental, bulk), the EDGAR "
    "day it ran for, daily indexes read, companies refetched, HTTP requests sent, bytes "
    "received on the wire, 304 answers. Written in the transaction of the rows it describes."
)
_PAYLOADS_COMMENT = (
    "Per SEC raw table and company: sha256 of the cached payload its rows were built from; "
    "a refresh rewrites a company's rows only when its cached payload differs."
)
_COMPANYFACTS_COMMENT = (
    "SEC XBRL companyfacts, long form: one row per fact as filed (comparatives repeat; fy/fp "
    "describe the filing, not the period). No dedup here. Refreshed incrementally: see "
    "raw.refresh_log."
)
_FILINGS_COMMENT = (
    "EDGAR filing index per company (submissions API): form, filing and report dates, "
    "accession, fiscal year end. Refreshed incrementally: see raw.refresh_log."
)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class RefreshOptions:
    """How a refresh runs; by default what `Settings` says (`from_settings`)."""

    force_full: bool = False
    bulk: bool = False
    all_filers: bool = False
    workers: int = DEFAULT_WORKERS
    sweep_every_days: int = 7

    @classmethod
    def from_settings(cls, settings: Settings) -> RefreshOptions:
        """The options `Settings` carries (AIWATCH_FULL_REFRESH, AIWATCH_BULK,
        AIWATCH_ALL_FILERS, AIWATCH_SEC_WORKERS): what a refresh uses unless told otherwise."""
        return cls(force_full=settings.full_refresh, bulk=settings.bulk,
                   all_filers=settings.all_filers, workers=settings.sec_workers)



@dataclass
class RefreshResult(LoadResult):
    """A `LoadResult` plus what the refresh decided and what it cost."""

    mode: str = ""
    reason: str = ""
    days_read: int = 0
    days_absent: int = 0
    ciks_refetched: list[int] = field(default_factory=list)
    requests: int = 0
    bytes_downloaded: int = 0


@dataclass(frozen=True)
class RefreshState:
    """Day of the last successful load of a table, and of its last full load or sweep."""

    last_success: date | None = None
    last_sweep: date | None = None


class _Meter:
    """Counts HTTP requests and wire bytes through a requests response hook (retries and
    redirects included; bytes as received, compressed)."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.requests = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        length = response.headers.get("Content-Length", "0")
        with self._lock:
            self.requests += 1
            self.bytes += int(length) if length.isdigit() else 0

    def __enter__(self) -> _Meter:
        self.session.hooks.setdefault("response", []).append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.hooks["response"].remove(self)


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = warehouse.split_table_name(table)
    ((n,),) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(n)


def read_state(con: duckdb.DuckDBPyConnection, table: str) -> RefreshState:
    """The refresh state of `table` from `raw.refresh_log` (empty state if none)."""
    if not _table_exists(con, REFRESH_LOG):
        return RefreshState()
    ((last_success, last_sweep),) = con.execute(
        f"select max(run_day), max(run_day) filter (where mode in ('full', 'sweep', 'bulk')) "
        f"from {REFRESH_LOG} where table_name = ?",
        [table],
    ).fetchall()
    return RefreshState(last_success, last_sweep)


def refresh_log(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`raw.refresh_log`, newest first (empty frame when no refresh has run)."""
    if not _table_exists(con, REFRESH_LOG):
        return pl.DataFrame()
    return con.sql(f"select * from {REFRESH_LOG} order by run_at desc").pl()


def _log_writer(result: RefreshResult, run_day: date) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def write(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(_LOG_DDL)
        con.execute(
            f"insert into {REFRESH_LOG} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [datetime.now(UTC), result.table, run_day, result.mode, result.reason,
             result.days_read, len(result.ciks_refetched), result.requests,
             result.bytes_downloaded, result.not_modified],
        )
        con.execute(f"COMMENT ON TABLE {REFRESH_LOG} IS {warehouse.quote_literal(_LOG_COMMENT)}")

    return write


def _validate_index(body: bytes) -> None:
    daily_index.parse_form_index_with_rejects(body)


def read_daily_indexes(
    client: HttpClient, days: Sequence[date], result: RefreshResult
) -> list[pl.DataFrame] | None:
    """Each day's parsed form index (a day without one, 403/404, is skipped); None when an
    index could not be read at all, so the caller sweeps instead of missing filings."""
    frames = []
    for day in days:
        try:
            fetched = client.fetch("sec_www", daily_index.form_index_path(day),
                                   validate=_validate_index)
        except NotFoundError:
            result.days_absent += 1
            continue
        except FetchError as exc:
            if exc.status in daily_index.INDEX_ABSENT_STATUSES:
                result.days_absent += 1
                continue
            log.warning("daily index of %s unreadable (%s): sweeping instead", day, exc)
            result.notes.append(f"daily index of {day} unreadable: {exc}")
            return None
        result.days_read += 1
        frames.append(daily_index.parse_form_index(fetched.body))
    return frames


def fetch_parallel(
    client: HttpClient,
    result: LoadResult,
    source: str,
    paths: Mapping[int, str],
    *,
    validate: Callable[[bytes], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    on_done: Callable[[int], None] | None = None,
) -> set[int]:
    """Fetch `paths` (cik -> URL path) with `workers` threads sharing the client and its rate
    limiter; count outcomes into `result`; return the CIKs answered 200 (a new body).
    `on_done(cik)` is called when a company's fetch has ended, however it ended."""
    changed: set[int] = set()
    lock = threading.Lock()

    def one(item: tuple[int, str]) -> None:
        try:
            fetch_one(item)
        finally:
            if on_done is not None:
                on_done(item[0])

    def fetch_one(item: tuple[int, str]) -> None:
        cik, path = item
        try:
            fetched = client.fetch(source, path, validate=validate)
        except NotFoundError:
            with lock:
                result.missing.append(f"CIK{cik:010d}")
            return
        except FetchError as exc:
            with lock:
                result.failed[f"CIK{cik:010d}"] = str(exc)
            log.warning("keeping the last good payload for CIK %s: %s", cik, exc)
            return
        with lock:
            result.count(fetched)
            if not fetched.not_modified:
                changed.add(cik)

    items = list(paths.items())
    if workers <= 1 or len(items) <= 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sec-fetch") as pool:
            list(pool.map(one, items))
    return changed


def _plan(
    con: duckdb.DuckDBPyConnection, table: str, today: date, options: RefreshOptions
) -> daily_index.RefreshPlan:
    state = read_state(con, table)
    missing_table = not _table_exists(con, table)
    return daily_index.plan_refresh(
        state.last_success, today, last_sweep=state.last_sweep,
        sweep_every_days=options.sweep_every_days,
        force_full=options.force_full or missing_table,
    )


def _to_fetch(
    client: HttpClient,
    plan: daily_index.RefreshPlan,
    members: Sequence[int],
    path_of: Callable[[int], str],
    result: RefreshResult,
) -> list[int]:
    """Members to request this run, by the plan's mode (sets `result.mode`/`reason`)."""
    result.mode, result.reason = plan.mode, plan.reason
    if plan.mode != "incremental":
        return list(members)
    frames = read_daily_indexes(client, plan.days, result)
    if frames is None:
        result.mode, result.reason = "sweep", "a daily index was unreadable: sweeping"
        return list(members)
    changed = set(daily_index.changed_ciks(frames, members)["cik"].to_list())
    new = {cik for cik in members if client.cached("sec_data", path_of(cik)) is None}
    if new:
        result.notes.append(f"{len(new)} members without a cached payload fetched")
    return [cik for cik in members if cik in changed or cik in new]


def _stored_keys(con: duckdb.DuckDBPyConnection, table: str) -> set[int]:
    if not _table_exists(con, table):
        return set()
    return {int(r[0]) for r in con.execute(f"select distinct cik from {table}").fetchall()}


def _cached_hashes(
    client: HttpClient, members: Sequence[int], path_of: Callable[[int], str]
) -> dict[int, str]:
    """sha256 of each member's cached payload (from its .meta.json; no body is read)."""
    host = client.settings.sources["sec_data"].host
    hashes = {}
    for cik in members:
        meta = rawcache.read_meta(client.raw_dir, rawcache.cache_key(host, path_of(cik)))
        if meta and meta.get("sha256"):
            hashes[cik] = str(meta["sha256"])
    return hashes


def _stored_hashes(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, str]:
    if not _table_exists(con, PAYLOADS):
        return {}
    rows = con.execute(f"select cik, sha256 from {PAYLOADS} where table_name = ?", [table])
    return {int(cik): str(sha) for cik, sha in rows.fetchall()}


def _keys_to_replace(
    con: duckdb.DuckDBPyConnection, table: str, members: Sequence[int], cached: dict[int, str]
) -> set[int]:
    """Companies whose rows must change: members whose cached payload is not the one their
    rows were built from (compared by sha256, so a payload downloaded by a run whose write
    failed is still applied later), members without rows, and ex-members' rows."""
    stored_rows = _stored_keys(con, table)
    built_from = _stored_hashes(con, table)
    member_set = set(members)
    stale = {cik for cik, sha in cached.items() if built_from.get(cik) != sha}
    return stale | ((member_set - stored_rows) & set(cached)) | (stored_rows - member_set)


def _payloads_writer(
    table: str, keys: set[int] | None, cached: dict[int, str]
) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """Record which payload (sha256) each company's rows were built from, in the same
    transaction as the rows."""

    def write(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"CREATE TABLE IF NOT EXISTS {PAYLOADS} (table_name VARCHAR, cik BIGINT, "
                    "sha256 VARCHAR)")
        if keys is None:
            con.execute(f"DELETE FROM {PAYLOADS} WHERE table_name = ?", [table])
        elif keys:
            con.executemany(f"DELETE FROM {PAYLOADS} WHERE table_name = ? AND cik = ?",
                            [[table, k] for k in sorted(keys)])
        chosen = cached if keys is None else {k: v for k, v in cached.items() if k in keys}
        if chosen:
            con.executemany(f"INSERT INTO {PAYLOADS} VALUES (?, ?, ?)",
                            [[table, cik, sha] for cik, sha in sorted(chosen.items())])
        con.execute(f"COMMENT ON TABLE {PAYLOADS} IS {warehouse.quote_literal(_PAYLOADS_COMMENT)}")

    return write


class _Spool:
    """Companies parsed ahead of the writer: one Parquet file per company and payload under
    `<home>/build/spool/<table>/`, written (atomically) as each download ends, so parsing
    overlaps the rate-limited downloads without holding the single-writer lock. The writer
    then loads the files in one streamed statement (`warehouse.replace_rows(files=...)`).

    A file is trusted only if this run wrote it from the payload whose sha256 is current;
    anything else is parsed again (under the lock, which is then still HTTP-free). One refresh
    per table at a time is assumed (Dagster runs one step per asset); files a killed run left
    are removed when the next run starts."""

    def __init__(self, client: HttpClient, table: str, result: RefreshResult) -> None:
        self.client = client
        self.directory = client.settings.home / "build" / "spool" / table
        self.result = result
        # cik -> (sha256 of the payload parsed, its Parquet file or None when it has no facts)
        self.parsed: dict[int, tuple[str, Path | None]] = {}
        self.rejects: dict[int, pl.DataFrame] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> _Spool:
        self.clear()
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.clear()

    def clear(self) -> None:
        if self.directory.exists():
            for stale in self.directory.iterdir():
                stale.unlink(missing_ok=True)

    def add(self, cik: int) -> None:
        """Parse the company's cached payload into the spool (no cached payload: nothing)."""
        cached = self.client.cached("sec_data", companyfacts_path(cik))
        if cached is None:
            return
        sha = str(cached.meta.get("sha256", ""))
        try:
            good, bad = companyfacts.parse_with_rejects(cached.body)
        except companyfacts.CompanyfactsError as exc:
            # One unreadable payload costs that company, not the whole table.
            with self._lock:
                self.result.failed[f"CIK{cik:010d}"] = str(exc)
            return
        target = None
        if good.height:
            target = self.directory / f"CIK{cik:010d}-{sha[:16]}.parquet"
            tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
            good.write_parquet(tmp, statistics=False)
            os.replace(tmp, target)
        with self._lock:
            self.parsed[cik] = (sha, target)
            if bad.height:
                self.rejects[cik] = bad.with_columns(pl.lit(str(cached.path)).alias("source"))
            else:
                self.rejects.pop(cik, None)

    def files(self, ciks: Collection[int], current: Mapping[int, str]) -> list[Path]:
        """The spool files of `ciks`, parsing now any company not spooled from its `current`
        payload (sha256)."""
        out = []
        for cik in ciks:
            spooled = self.parsed.get(cik)
            if spooled is None or spooled[0] != current.get(cik):
                self.parsed.pop(cik, None)
                self.add(cik)
                spooled = self.parsed.get(cik)
            if spooled is not None and spooled[1] is not None:
                out.append(spooled[1])
        return out


def refresh_sec_companyfacts(
    client: HttpClient,
    wh: Warehouse,
    members: Sequence[int],
    *,
    today: date | None = None,
    options: RefreshOptions | None = None,
) -> RefreshResult:
    """Bring `raw.sec_companyfacts` up to date for `members`, downloading as little as the
    plan allows (module docstring); returns what was done, also logged in `raw.refresh_log`.

    No HTTP under the writer lock: the lock is held to read the plan, then released for the
    downloads (other step processes write meanwhile), and taken again to load what was parsed
    into the spool while downloading (`_Spool`)."""
    options = options or RefreshOptions.from_settings(client.settings)
    today = today or datetime.now(UTC).date()
    members = sorted(set(members))
    result = RefreshResult(COMPANYFACTS_TABLE)
    if options.bulk:
        return _refresh_from_bulk(client, wh, members, today, options, result)
    with wh.writer() as con:
        plan = _plan(con, COMPANYFACTS_TABLE, today, options)
        built_from = {} if plan.mode == "full" else _stored_hashes(con, COMPANYFACTS_TABLE)
    full = plan.mode == "full"
    with (
        _Spool(client, COMPANYFACTS_TABLE, result) as spool,
        # Parsing runs beside the downloads, never in their threads: a download thread goes
        # straight back to the rate limiter (with 1 worker, inline parsing cost ~10% of the floor).
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="sec-parse") as parsers,
    ):
        parsing: list[Future[None]] = []

        def parse_if_new(cik: int) -> None:
            # A full load parses everyone; otherwise only payloads its rows were not built from.
            cached = _cached_hashes(client, [cik], companyfacts_path)
            if full or (cik in cached and cached[cik] != built_from.get(cik)):
                parsing.append(parsers.submit(spool.add, cik))

        with _Meter(client.session) as meter:
            wanted = _to_fetch(client, plan, members, companyfacts_path, result)
            paths = {cik: companyfacts_path(cik) for cik in wanted}
            fetch_parallel(client, result, "sec_data", paths, validate=companyfacts.validate,
                           workers=options.workers, on_done=parse_if_new)
        for parsed in parsing:
            parsed.result()  # an unexpected error in a parse surfaces here
        result.ciks_refetched = sorted(wanted)
        result.requests, result.bytes_downloaded = meter.requests, meter.bytes

        with wh.writer() as con:
            cached = _cached_hashes(client, members, companyfacts_path)
            if full:
                keys: set[int] | None = None
                rebuild: Collection[int] = members
            else:
                keys = _keys_to_replace(con, COMPANYFACTS_TABLE, members, cached)
                rebuild = sorted(keys & set(members))
            files = spool.files(rebuild, cached)
            host = client.settings.sources["sec_data"].host
            sources = None if keys is None else [
                str(rawcache.resolve(client.raw_dir,
                                     rawcache.cache_key(host, companyfacts_path(cik))))
                for cik in keys
            ]
            rejects = [spool.rejects[cik] for cik in rebuild if cik in spool.rejects]
            write_log = _log_writer(result, today)

            def also(con: duckdb.DuckDBPyConnection) -> None:
                result.rejects = warehouse.upsert_rejects(
                    con, COMPANYFACTS_TABLE, rejects, replace_sources=sources
                )
                _payloads_writer(COMPANYFACTS_TABLE, keys, cached)(con)
                write_log(con)

            result.rows = warehouse.replace_rows(
                con, COMPANYFACTS_TABLE, companyfacts.SCHEMA, (), files=files,
                key_column="cik", keys=keys, also=also, comment=_COMPANYFACTS_COMMENT,
                memory_limit=wh.load_memory_limit,
            )
    result.notes.append(
        f"{result.mode}: {result.reason}; {len(result.ciks_refetched)} companies requested, "
        f"{result.fetched} downloaded, {result.requests} requests, {result.bytes_downloaded} bytes"
    )
    return result


def _refresh_from_bulk(
    client: HttpClient,
    wh: Warehouse,
    members: Sequence[int],
    today: date,
    options: RefreshOptions,
    result: RefreshResult,
) -> RefreshResult:
    """Rebuild the table from SEC's nightly `companyfacts.zip`, streamed member by member."""
    result.mode = "bulk"
    result.reason = "all filers" if options.all_filers else f"{len(members)} members"
    with _Meter(client.session) as meter:
        # Streamed into the raw cache, never held (the archive is GBs); 304 when unchanged.
        fetched = client.fetch("sec_www", bulk.COMPANYFACTS_ZIP_PATH, max_bytes=BULK_MAX_BYTES,
                               to_file=True)
    result.count(fetched)
    result.requests, result.bytes_downloaded = meter.requests, meter.bytes
    report = bulk.BulkReport()
    with _Spool(client, COMPANYFACTS_TABLE, result) as spool:
        # Parsed into the spool before the writer lock is taken, then loaded in one streamed
        # statement, as the per-company refresh does: inserting member by member kept every
        # uncommitted row in DuckDB's memory (2.4 GB per 13M facts; every filer is ~10x that).
        files, rejects = _spool_bulk(
            spool.directory, fetched.path, None if options.all_filers else members,
            report, result,
        )
        with wh.writer() as con:
            write_log = _log_writer(result, today)

            def also(con: duckdb.DuckDBPyConnection) -> None:
                result.rejects = warehouse.upsert_rejects(
                    con, COMPANYFACTS_TABLE, rejects, replace_sources=None
                )
                # Rows now come from the archive, not from per-company payloads.
                _payloads_writer(COMPANYFACTS_TABLE, None, {})(con)
                write_log(con)

            result.rows = warehouse.replace_rows(
                con, COMPANYFACTS_TABLE, companyfacts.SCHEMA, (), files=files,
                key_column="cik", keys=None, also=also, comment=_COMPANYFACTS_COMMENT,
                memory_limit=wh.load_memory_limit,
            )
    result.ciks_refetched = []
    if not options.all_filers:
        result.missing = [f"CIK{c:010d}" for c in members if c not in _yielded_ciks(wh)]
    result.notes.append(
        f"bulk: {report.yielded} members read, {report.skipped_total} skipped "
        f"{dict(report.skipped)}, {report.not_requested} not requested"
    )
    return result


def _spool_bulk(
    directory: Path,
    archive: Path,
    ciks: Sequence[int] | None,
    report: bulk.BulkReport,
    result: RefreshResult,
) -> tuple[list[Path], list[pl.DataFrame]]:
    """Parse the archive's members (`ciks`, None: all) into Parquet files of about
    `BULK_SPOOL_ROWS` rows under `directory`; return the files and the rejects."""
    files: list[Path] = []
    rejects: list[pl.DataFrame] = []
    pending: list[pl.DataFrame] = []

    def flush() -> None:
        if pending:
            target = directory / f"bulk-{len(files):05d}.parquet"
            pl.concat(pending).write_parquet(target, statistics=False)
            files.append(target)
            pending.clear()

    for cik, payload in bulk.iter_companyfacts(archive, ciks=ciks, report=report):
        try:
            good, bad = companyfacts.parse_with_rejects(payload)
        except companyfacts.CompanyfactsError as exc:
            result.failed[f"CIK{cik:010d}"] = str(exc)
            continue
        if bad.height:
            rejects.append(bad.with_columns(pl.lit(f"{archive}#CIK{cik:010d}.json")
                                            .alias("source")))
        if good.height:
            pending.append(good)
        if sum(frame.height for frame in pending) >= BULK_SPOOL_ROWS:
            flush()
    flush()
    return files, rejects


def _yielded_ciks(wh: Warehouse) -> set[int]:
    with wh.writer() as con:
        return _stored_keys(con, COMPANYFACTS_TABLE)


def refresh_sec_filings(
    client: HttpClient,
    wh: Warehouse,
    members: Sequence[int],
    window_start: date,
    *,
    today: date | None = None,
    options: RefreshOptions | None = None,
) -> RefreshResult:
    """Bring `raw.sec_filings` (submissions) up to date like `refresh_sec_companyfacts`: the
    same plan, its own state; overflow pages are fetched only for refetched companies."""
    options = options or RefreshOptions.from_settings(client.settings)
    today = today or datetime.now(UTC).date()
    members = sorted(set(members))
    result = RefreshResult(FILINGS_TABLE)
    with wh.writer() as con:
        plan = _plan(con, FILINGS_TABLE, today, options)
    with _Meter(client.session) as meter:
        wanted = _to_fetch(client, plan, members, submissions_path, result)
        fetch_parallel(client, result, "sec_data", {cik: submissions_path(cik) for cik in wanted},
                       workers=options.workers)
        # Older filings sit on overflow pages; fetch those reaching into the window.
        for cik in wanted:
            for page in _overflow_pages(client, cik, window_start):
                fetch_parallel(client, result, "sec_data", {cik: submissions_path(cik, page)})
    result.ciks_refetched = sorted(wanted)
    result.requests, result.bytes_downloaded = meter.requests, meter.bytes

    def batches(ciks: Collection[int]) -> Iterator[pl.DataFrame]:
        for cik in ciks:
            cached = client.cached("sec_data", submissions_path(cik))
            if cached is None:
                continue
            yield submissions.parse(cached.body)
            for page in _overflow_pages(client, cik, window_start):
                page_cached = client.cached("sec_data", submissions_path(cik, page))
                if page_cached is not None:
                    yield submissions.parse(page_cached.body, cik=cik)

    cached = _cached_hashes(client, members, submissions_path)
    with wh.writer() as con:
        if result.mode == "full":
            keys: set[int] | None = None
            rebuild: Collection[int] = members
        else:
            keys = _keys_to_replace(con, FILINGS_TABLE, members, cached)
            rebuild = sorted(keys & set(members))
        write_payloads = _payloads_writer(FILINGS_TABLE, keys, cached)
        write_log = _log_writer(result, today)

        def also(con: duckdb.DuckDBPyConnection) -> None:
            write_payloads(con)
            write_log(con)

        result.rows = warehouse.replace_rows(
            con, FILINGS_TABLE, submissions.SCHEMA, batches(rebuild), key_column="cik",
            keys=keys, also=also, comment=_FILINGS_COMMENT,
        )
    return result


def _overflow_pages(client: HttpClient, cik: int, window_start: date) -> list[str]:
    cached = client.cached("sec_data", submissions_path(cik))
    if cached is None:
        return []
    return [
        page["name"] for page in submissions.overflow_pages(cached.body)
        if page["filingTo"] >= window_start
    ]
