"""Fetch a source, keep the raw response, parse it, replace its `raw.*` table.

One function per raw table. Each returns a `LoadResult` that says what was fetched, what was
already current (304), what the source did not have and what failed, so the orchestrator can
show coverage instead of hiding it. Tables are rebuilt from the raw cache, not from this run's
downloads alone: a company whose fetch fails today keeps the rows of its last good payload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from aiwatch import fred, membership, prices, seeds, warehouse
from aiwatch.http import Fetched, FetchError, HttpClient, NotFoundError
from aiwatch.sec import tickers
from aiwatch.warehouse import Warehouse

if TYPE_CHECKING:
    from aiwatch.refresh import RefreshOptions, RefreshResult

log = logging.getLogger(__name__)


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
        result.rows = warehouse.replace_table(
            con, result.table, frame,
            comment=f"SEC company_tickers.json: one row per listed ticker ({fetched.url})",
        )
    return result


def load_sp500_membership(client: HttpClient, wh: Warehouse) -> LoadResult:
    """Point-in-time S&P 500 membership intervals → `raw.sp500_membership`."""
    result = LoadResult("raw.sp500_membership")
    docs = {}
    for path in (
        membership.CONSTITUENTS_PATH,
        membership.FJA_CURRENT_PATH,
        membership.INTERVALS_PATH,
        membership.CHANGES_PATH,
    ):
        fetched = client.fetch("membership", path)
        result.count(fetched)
        docs[path] = fetched
    with wh.writer() as con:
        sec_tickers = con.sql("select cik, ticker, title from raw.sec_tickers").pl()
    constituent_lists = []
    rejects: list[pl.DataFrame] = []

    def keep_rejects(rejected: pl.DataFrame, path: str) -> None:
        if rejected.height:
            rejects.append(rejected.with_columns(pl.lit(docs[path].url).alias("source")))

    for path in (membership.CONSTITUENTS_PATH, membership.FJA_CURRENT_PATH):
        frame, rejected = membership.parse_constituents(docs[path].body)
        keep_rejects(rejected, path)
        constituent_lists.append((frame, _as_of(docs[path].meta), docs[path].url))
    intervals, rejected = membership.parse_intervals(docs[membership.INTERVALS_PATH].body)
    keep_rejects(rejected, membership.INTERVALS_PATH)
    changes, rejected = membership.parse_changes(docs[membership.CHANGES_PATH].body)
    keep_rejects(rejected, membership.CHANGES_PATH)
    result.rejects = sum(frame.height for frame in rejects)
    frame = membership.build_membership(intervals, changes, constituent_lists, sec_tickers)
    unmapped = frame.filter(pl.col("cik").is_null())["ticker"].unique().sort().to_list()
    result.notes.append(f"{len(unmapped)} tickers without a CIK (kept, not counted by CIK)")
    with wh.writer() as con:
        result.rows = warehouse.replace_table(
            con, result.table, frame,
            comment="S&P 500 membership intervals per ticker, point in time (fja05680/sp500 and "
            "datasets/s-and-p-500-companies); end_date NULL = member as of as_of",
        )
        warehouse.record_rejects(con, result.table, rejects)
    return result


def load_seed(wh: Warehouse, name: str, comment: str) -> LoadResult:
    """A curated seed (`data/<name>.csv`, every row sourced) → `raw.<name>`."""
    result = LoadResult(f"raw.{name}")
    frame = seeds.load_seed(wh.settings.data_dir / f"{name}.csv")
    with wh.writer() as con:
        result.rows = warehouse.replace_table(con, result.table, frame, comment=comment)
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


def load_sec_companyfacts(
    client: HttpClient,
    wh: Warehouse,
    ciks: Sequence[int],
    *,
    today: date | None = None,
    options: RefreshOptions | None = None,
) -> RefreshResult:
    """XBRL companyfacts of every member → `raw.sec_companyfacts`, every fact row as filed.

    The one loader of the table: `aiwatch.refresh.refresh_sec_companyfacts` (incremental by
    default, full with AIWATCH_FULL_REFRESH or when the table is missing)."""
    from aiwatch import refresh  # refresh builds on this module's LoadResult: import late

    return refresh.refresh_sec_companyfacts(client, wh, ciks, today=today, options=options)


def load_sec_filings(
    client: HttpClient,
    wh: Warehouse,
    ciks: Sequence[int],
    window_start: date,
    *,
    today: date | None = None,
    options: RefreshOptions | None = None,
) -> RefreshResult:
    """EDGAR submissions (filing index per company) → `raw.sec_filings`, through
    `aiwatch.refresh.refresh_sec_filings` like `load_sec_companyfacts`."""
    from aiwatch import refresh  # see load_sec_companyfacts

    return refresh.refresh_sec_filings(client, wh, ciks, window_start, today=today,
                                       options=options)


# =============================================================================================
# Market and macro: daily prices (Yahoo chart, Stooq, the bundled CSV) and FRED series.
# =============================================================================================

# The S&P 500 index itself, for the index's own level next to the members' market caps.
INDEX_SYMBOLS: tuple[str, ...] = ("^GSPC",)
# Series the marts read: nominal GDP (quarterly, $bn SAAR), private fixed investment in
# information processing equipment and software ($bn SAAR), and the index's daily close.
FRED_SERIES: tuple[str, ...] = ("GDP", "A679RC1Q027SBEA", "SP500")
PRICE_SOURCES = ("yahoo", "stooq")

_PRICES_COMMENT = (
    "Daily prices per symbol (S&P 500 members and indexes): close AS TRADED (split-unadjusted, "
    "for market cap = close x shares), adj_close as the source gives it, split ratio on split "
    "days. Sources: Yahoo v8 chart, Stooq CSV, or offline the bundled thndar/mag7-intel-"
    "lakehouse CSV (snapshot/SOURCES.md)"
)
_FRED_COMMENT = (
    "FRED series, long form: series_id, date, value (NULL where FRED published the date "
    "without a number). Source: fred.stlouisfed.org/graph/fredgraph.csv, offline the bundled "
    "copies (snapshot/SOURCES.md)"
)


def price_symbols(wh: Warehouse, window_start: date) -> list[str]:
    """Tickers to price: every S&P 500 member since `window_start`, the Mag7 listings (GOOG
    too), and the index. Membership tickers are kept as the index spells them (`BRK.B`)."""
    with wh.writer() as con:
        rows = con.execute(
            """
            select distinct ticker from raw.sp500_membership
            where ticker is not null and (end_date is null or end_date >= ?)
            union
            select distinct ticker from raw.mag7
            order by 1
            """,
            [window_start],
        ).fetchall()
    return [str(r[0]) for r in rows] + [s for s in INDEX_SYMBOLS if s not in {r[0] for r in rows}]


def yahoo_symbol(ticker: str) -> str:
    """Yahoo spells class shares with a dash (`BRK-B`); indexes keep their caret."""
    return ticker.replace(".", "-")


def _stored_price_days(wh: Warehouse) -> pl.DataFrame:
    """raw.prices_daily as stored (empty with PRICE_SCHEMA when the table does not exist)."""
    with wh.writer() as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'prices_daily'"
        ).fetchall()
        if not exists[0][0]:
            return pl.DataFrame(schema=prices.PRICE_SCHEMA)
        return con.sql("select * from raw.prices_daily").pl().cast(prices.PRICE_SCHEMA)  # type: ignore[arg-type]


def load_prices(
    client: HttpClient,
    wh: Warehouse,
    symbols: Sequence[str],
    *,
    source: str = "yahoo",
    end: date | None = None,
) -> LoadResult:
    """Daily prices of `symbols` → `raw.prices_daily` (PRICE_SCHEMA, close as traded).

    Offline: the bundled CSV, replayed through the client like any download, un-adjusted with
    data/splits.csv; symbols it lacks (every member but the Mag7, GOOG, ^GSPC) are `missing`.
    Live: one request per symbol to `source` ('yahoo', or 'stooq' with AIWATCH_STOOQ_API_KEY),
    asking only for the days after the symbol's last stored day up to `end` (default today,
    UTC); the client paces requests at the Source's rate and backs off on 429. Rows already
    stored are kept (closes as traded do not change when a later split happens) and a day
    fetched again replaces its stored row. A symbol that fails keeps its stored rows.
    """
    result = LoadResult("raw.prices_daily")
    settings = client.settings
    splits = prices.load_splits(settings.data_dir / "splits.csv")
    wanted = list(dict.fromkeys(symbols))
    if settings.offline:
        source_name, path = prices.BUNDLED_SOURCES["AAPL"]
        fetched = client.fetch(source_name, path)
        result.count(fetched)
        bundled = prices.parse_bundled_csv(fetched.body, splits)
        frame = bundled.filter(pl.col("symbol").is_in(wanted))
        have = set(frame["symbol"].unique().to_list())
        result.missing = [s for s in wanted if s not in have]
        result.notes.append(
            f"offline: {len(have)} of {len(wanted)} symbols priced from the bundled file "
            f"({fetched.url})"
        )
    else:
        if source not in PRICE_SOURCES:
            raise ValueError(f"unknown price source {source!r}; choose one of {PRICE_SOURCES}")
        if source == "stooq" and not settings.stooq_api_key:
            raise prices.PriceSourceError(
                f"price source 'stooq' chosen but {prices.STOOQ_KEY_ENV} is not set: Stooq "
                "requires an API key since about March 2026 (or use the default, yahoo)"
            )
        stored = _stored_price_days(wh).filter(pl.col("symbol").is_in(wanted))
        last_day = dict(stored.group_by("symbol").agg(pl.col("date").max()).iter_rows())
        end = end or datetime.now(UTC).date()
        fresh = [
            frame
            for symbol in wanted
            if (frame := _fetch_prices(client, result, source, symbol, last_day.get(symbol),
                                       end, splits)) is not None
        ]
        new_rows = pl.concat(fresh) if fresh else pl.DataFrame(schema=prices.PRICE_SCHEMA)
        # A day fetched again (a revised close) replaces the stored one.
        frame = pl.concat([
            stored.join(new_rows.select("symbol", "date"), on=["symbol", "date"], how="anti"),
            new_rows,
        ])
        up_to_date = [s for s in wanted if last_day.get(s) is not None and last_day[s] >= end]
        if up_to_date:
            result.notes.append(f"{len(up_to_date)} symbols already stored up to {end}")
    frame = frame.sort("symbol", "date")
    with wh.writer() as con:
        result.rows = warehouse.replace_table(con, result.table, frame, comment=_PRICES_COMMENT)
    return result


def _fetch_prices(
    client: HttpClient, result: LoadResult, source: str, symbol: str, last_day: date | None,
    end: date, splits: pl.DataFrame,
) -> pl.DataFrame | None:
    """New rows of one symbol (after `last_day`), or None when current, missing or failed."""
    start = last_day + timedelta(days=1) if last_day else client.settings.window_start
    if start > end:
        return None
    try:
        if source == "yahoo":
            path, params = prices.yahoo_chart_path(yahoo_symbol(symbol), start, end)
            fetched = client.fetch("prices", path, params, validate=_yahoo_chart)
            frame = prices.parse_yahoo_chart(fetched.body)
        else:
            path, params = prices.stooq_path(symbol, client.settings.stooq_api_key)
            # Stooq's d1/d2 (YYYYMMDD, inclusive) bound the answer to the days we lack.
            params = {**params, "d1": start.strftime("%Y%m%d"), "d2": end.strftime("%Y%m%d")}
            fetched = client.fetch("stooq", path, params)
            frame = prices.parse_stooq_csv(fetched.body, symbol, splits)
    except NotFoundError:
        result.missing.append(symbol)
        return None
    except (FetchError, prices.PriceSourceError) as exc:
        result.failed[symbol] = str(exc)
        log.warning("%s: keeping the stored prices: %s", symbol, exc)
        return None
    result.count(fetched)
    # Rows carry the ticker as the index spells it (BRK.B), whatever the source calls it.
    return frame.with_columns(symbol=pl.lit(symbol)).filter(
        (pl.col("date") >= start) & (pl.col("date") <= end)
    )


def _yahoo_chart(body: bytes) -> None:
    """Refuse a chart error object or a non-chart body before it enters the raw cache."""
    prices.parse_yahoo_chart(body)


def load_fred(client: HttpClient, wh: Warehouse, series_ids: Sequence[str]) -> LoadResult:
    """FRED series → `raw.fred_series` (series_id, date, value), full history each.

    Live: `fredgraph.csv?id=…` (no key). Offline: the bundled copy of each series
    (`aiwatch.fred.BUNDLED_SOURCES`), replayed through the client. A series whose download
    fails keeps its last good cached copy; both CSV dialects (observation_date / DATE) parse.
    """
    result = LoadResult("raw.fred_series")
    offline = client.settings.offline
    located: dict[str, tuple[str, str, dict[str, str] | None]] = {}
    for series_id in dict.fromkeys(series_ids):
        if offline:
            if series_id not in fred.BUNDLED_SOURCES:
                result.missing.append(series_id)
                continue
            source_name, path = fred.BUNDLED_SOURCES[series_id]
            located[series_id] = (source_name, path, None)
        else:
            path, params = fred.fredgraph_path(series_id)
            located[series_id] = ("fred", path, params)
    frames: list[pl.DataFrame] = []
    for series_id, (source_name, path, params) in located.items():
        try:
            result.count(client.fetch(source_name, path, params, validate=_fred_csv(series_id)))
        except NotFoundError:
            result.missing.append(series_id)
            continue
        except FetchError as exc:
            result.failed[series_id] = str(exc)
            log.warning("FRED %s: keeping the last good copy: %s", series_id, exc)
        cached = client.cached(source_name, path, params)
        if cached is not None:
            frames.append(fred.parse_fredgraph_csv(cached.body, series_id))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=fred.FRED_SCHEMA)
    with wh.writer() as con:
        result.rows = warehouse.replace_table(con, result.table, frame, comment=_FRED_COMMENT)
    return result


def _fred_csv(series_id: str) -> Callable[[bytes], None]:
    def validate(body: bytes) -> None:
        fred.parse_fredgraph_csv(body, series_id)

    return validate
