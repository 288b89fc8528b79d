"""Fetch a source, keep the raw response, parse it, replace its `raw.*` table.

One function per raw table. Each returns a `LoadResult` that says what was fetched, what was
already current (304), what the source did not have and what failed, so the orchestrator can
show coverage instead of hiding it. Tables are rebuilt from the raw cache, not from this run's
downloads alone: a company whose fetch fails today keeps the rows of its last good payload.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from aiwatch import membership, seeds
from aiwatch.http import FetchError, Fetched, HttpClient, NotFoundError
from aiwatch.sec import companyfacts, submissions, tickers
from aiwatch.warehouse import Warehouse

log = logging.getLogger(__name__)

# Public CSVs of the two membership projects (see snapshot/SOURCES.md).
CONSTITUENTS_PATH = "/datasets/s-and-p-500-companies/main/data/constituents.csv"
FJA_CURRENT_PATH = "/fja05680/sp500/master/sp500.csv"
FJA_INTERVALS_PATH = "/fja05680/sp500/master/sp500_ticker_start_end.csv"
FJA_CHANGES_PATH = "/fja05680/sp500/master/sp500_changes_since_2019.csv"


@dataclass
class LoadResult:
    """What one load did, for the asset's metadata and the run log."""

    table: str
    rows: int = 0
    fetched: int = 0
    not_modified: int = 0
    # Asked for, and the source (or the offline snapshot) has no such document.
    missing: list[str] = field(default_factory=list)
    # Asked for and failed (after retries); the last good payload, if any, was used instead.
    failed: dict[str, str] = field(default_factory=dict)
    # Payload rows refused by a parser, with reasons; they land in raw.rejects.
    rejects: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, fetched: Fetched) -> None:
        if fetched.not_modified:
            self.not_modified += 1
        else:
            self.fetched += 1


def companyfacts_path(cik: int) -> str:
    return f"/api/xbrl/companyfacts/CIK{cik:010d}.json"


def submissions_path(cik: int, page: str | None = None) -> str:
    return f"/submissions/{page}" if page else f"/submissions/CIK{cik:010d}.json"


def _as_of(meta: dict) -> date:
    """The day a document describes: its Last-Modified when the server says, else fetch day."""
    last_modified = meta.get("last_modified")
    if last_modified:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(last_modified).date()
        except (TypeError, ValueError):
            pass
    fetched_at = meta.get("fetched_at")
    if fetched_at:
        return datetime.fromisoformat(fetched_at).date()
    return datetime.now(UTC).date()


def load_sec_tickers(client: HttpClient, wh: Warehouse) -> LoadResult:
    """SEC's ticker → CIK map (`company_tickers.json`) → `raw.sec_tickers`."""
    result = LoadResult("raw.sec_tickers")
    fetched = client.fetch("sec_www", "/files/company_tickers.json", validate=_json_object)
    result.count(fetched)
    frame = tickers.parse(fetched.body)
    with wh.writer() as con:
        result.rows = wh.replace_table(
            con, result.table, frame,
            comment=f"SEC company_tickers.json: one row per listed ticker ({fetched.url})",
        )
    return result


def load_sp500_membership(client: HttpClient, wh: Warehouse) -> LoadResult:
    """Point-in-time S&P 500 membership intervals → `raw.sp500_membership`."""
    result = LoadResult("raw.sp500_membership")
    docs = {}
    for path in (CONSTITUENTS_PATH, FJA_CURRENT_PATH, FJA_INTERVALS_PATH, FJA_CHANGES_PATH):
        fetched = client.fetch("membership", path)
        result.count(fetched)
        docs[path] = fetched
    with wh.writer() as con:
        sec_tickers = con.sql("select cik, ticker, title from raw.sec_tickers").pl()
    constituent_lists = []
    for path in (CONSTITUENTS_PATH, FJA_CURRENT_PATH):
        frame, rejected = membership.parse_constituents(docs[path].body)
        result.rejects += rejected.height
        constituent_lists.append((frame, _as_of(docs[path].meta), docs[path].url))
    intervals, rejected_intervals = membership.parse_intervals(docs[FJA_INTERVALS_PATH].body)
    changes, rejected_changes = membership.parse_changes(docs[FJA_CHANGES_PATH].body)
    result.rejects += rejected_intervals.height + rejected_changes.height
    frame = membership.build_membership(intervals, changes, constituent_lists, sec_tickers)
    unmapped = frame.filter(pl.col("cik").is_null())["ticker"].unique().sort().to_list()
    result.notes.append(f"{len(unmapped)} tickers without a CIK (kept, not counted by CIK)")
    with wh.writer() as con:
        result.rows = wh.replace_table(
            con, result.table, frame,
            comment="S&P 500 membership intervals per ticker, point in time (fja05680/sp500 and "
            "datasets/s-and-p-500-companies); end_date NULL = member as of as_of",
        )
    return result


def load_seed(wh: Warehouse, name: str, comment: str) -> LoadResult:
    """A curated seed (`data/<name>.csv`, every row sourced) → `raw.<name>`."""
    result = LoadResult(f"raw.{name}")
    frame = seeds.load_seed(wh.settings.data_dir / f"{name}.csv")
    with wh.writer() as con:
        result.rows = wh.replace_table(con, result.table, frame, comment=comment)
    return result


def member_ciks(wh: Warehouse, window_start: date) -> list[int]:
    """Every CIK that was an S&P 500 member at any time since `window_start`, plus the Mag7."""
    with wh.writer() as con:
        return _member_ciks(con, window_start)


def _member_ciks(con: duckdb.DuckDBPyConnection, window_start: date) -> list[int]:
    rows = con.execute(
        """
        select distinct cik from raw.sp500_membership
        where cik is not null and (end_date is null or end_date >= ?)
        union
        select distinct cik from raw.mag7
        order by cik
        """,
        [window_start],
    ).fetchall()
    return [int(r[0]) for r in rows]


def _json_object(body: bytes) -> None:
    """Refuse what is not a JSON object before it replaces a good cached copy (an HTML error
    page or a truncated body served with status 200)."""
    import msgspec

    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise ValueError("JSON is not an object")


def _fetch_each(
    client: HttpClient, result: LoadResult, source: str, paths: dict[int, str]
) -> None:
    for cik, path in paths.items():
        try:
            fetched = client.fetch(source, path, validate=_json_object)
            result.count(fetched)
        except NotFoundError:
            result.missing.append(f"CIK{cik:010d}")
        except FetchError as exc:
            result.failed[f"CIK{cik:010d}"] = str(exc)
            log.warning("keeping the last good payload for CIK %s: %s", cik, exc)


def load_sec_companyfacts(client: HttpClient, wh: Warehouse, ciks: Sequence[int]) -> LoadResult:
    """XBRL companyfacts of every member → `raw.sec_companyfacts`, every fact row as filed."""
    result = LoadResult("raw.sec_companyfacts")
    paths = {cik: companyfacts_path(cik) for cik in ciks}
    _fetch_each(client, result, "sec_data", paths)
    rejects: list[pl.DataFrame] = []

    def batches() -> Iterator[pl.DataFrame]:
        # One company at a time: 500 payloads never sit in memory together.
        for cik, path in paths.items():
            cached = client.cached("sec_data", path)
            if cached is None:
                continue
            good, bad = companyfacts.parse_with_rejects(cached.body)
            if bad.height:
                rejects.append(bad.with_columns(pl.lit(str(cached.path)).alias("source")))
            yield good

    with wh.writer() as con:
        result.rows = wh.replace_table_from_batches(
            con, result.table, companyfacts.SCHEMA, batches(),
            comment="SEC XBRL companyfacts, long form: one row per fact as filed (comparatives "
            "repeat; fy/fp describe the filing, not the period). No dedup here.",
        )
        result.rejects = sum(frame.height for frame in rejects)
        wh.record_rejects(con, result.table, rejects)
    return result


def load_sec_filings(
    client: HttpClient, wh: Warehouse, ciks: Sequence[int], window_start: date
) -> LoadResult:
    """EDGAR submissions (filing index per company) → `raw.sec_filings`."""
    result = LoadResult("raw.sec_filings")
    paths = {cik: submissions_path(cik) for cik in ciks}
    _fetch_each(client, result, "sec_data", paths)
    # Older filings sit on overflow pages; fetch only those that reach into the window.
    overflow: dict[int, list[str]] = {}
    for cik, path in paths.items():
        cached = client.cached("sec_data", path)
        if cached is None:
            continue
        pages = [
            page["name"]
            for page in submissions.overflow_pages(cached.body)
            if page["filingTo"] >= window_start
        ]
        overflow[cik] = pages
        for page in pages:
            _fetch_each(client, result, "sec_data", {cik: submissions_path(cik, page)})

    def batches() -> Iterator[pl.DataFrame]:
        for cik, path in paths.items():
            cached = client.cached("sec_data", path)
            if cached is None:
                continue
            yield submissions.parse(cached.body)
            for page in overflow.get(cik, []):
                page_cached = client.cached("sec_data", submissions_path(cik, page))
                if page_cached is not None:
                    yield submissions.parse(page_cached.body, cik=cik)

    with wh.writer() as con:
        result.rows = wh.replace_table_from_batches(
            con, result.table, submissions.SCHEMA, batches(),
            comment="EDGAR filing index per company (submissions API): form, filing and report "
            "dates, accession, fiscal year end",
        )
    return result
