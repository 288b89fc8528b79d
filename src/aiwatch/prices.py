"""Daily prices from three payload types, one schema: Yahoo's v8 chart JSON, Stooq's CSV, and the
bundled Yahoo-style CSV (thndar/mag7-intel-lakehouse).

`close` in PRICE_SCHEMA is the price **as traded that day** (not split-adjusted), because
market cap = close × shares outstanding, and SEC share counts are as of their own date. Every
source here delivers split-adjusted closes instead:

- Yahoo's `close` is adjusted for splits (not dividends; `adjclose` is adjusted for both). Checked
  on the bundled file: NVDA's 2024-06-07 close reads 120.888, a tenth of the 1,208.88 it traded
  at before the 10-for-1 split effective 2024-06-10.
- Stooq's CSV is split-adjusted as well (assumed; Stooq does not document it).

So each parser multiplies `close` by the product of the split ratios that took effect after the
row's day (`unadjust_for_splits`), and divides `volume` likewise, using the split events in the
payload (Yahoo) or a split table (the bundled CSV: data/splits.csv). The consequence for users:
a split after the last split known to the table leaves older closes adjusted; the Yahoo fetch
must therefore run to today (its events cover the requested range only). `adj_close` is passed
through as the source gives it (split- and dividend-adjusted), for total-return use.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl

log = logging.getLogger(__name__)

PRICE_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.Utf8(),
    "date": pl.Date(),
    "close": pl.Float64(),  # as traded (split-unadjusted)
    "adj_close": pl.Float64(),  # split- and dividend-adjusted, as the source gives it
    "volume": pl.Int64(),  # shares traded, as traded
    "split_ratio": pl.Float64(),  # new shares per old share, on the split's first day
    "dividend": pl.Float64(),  # per share, on the ex-date, as the source gives it
    "source": pl.Utf8(),
}

SPLITS_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.Utf8(),
    "date": pl.Date(),  # first trading day at the new share count (ex-date)
    "split_ratio": pl.Float64(),
}

# The bundled copy of the thndar/mag7-intel-lakehouse price file (source `membership`, host
# raw.githubusercontent.com; commit-pinned; provenance in snapshot/SOURCES.md). Its symbols:
BUNDLED_PRICES_PATH = (
    "/thndar/mag7-intel-lakehouse/e785421525516a150179b905ef37c5dc04b76938"
    "/data/stocks/prices_20200101_20251203.csv"
)
BUNDLED_SOURCES: dict[str, tuple[str, str]] = {
    symbol: ("membership", BUNDLED_PRICES_PATH)
    for symbol in [
        "AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "TSLA", "^IXIC", "^NDX", "^NDXE", "^VIX",
    ]
}
STOOQ_KEY_ENV = "AIWATCH_STOOQ_API_KEY"


class PriceSourceError(RuntimeError):
    """A price source answered something other than prices (an error object, an HTML page)."""


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=PRICE_SCHEMA)


def _check_symbol(symbol: str) -> str:
    cleaned = symbol.strip()
    if not cleaned or any(c in cleaned for c in "/?&#\\ ") or ".." in cleaned:
        raise ValueError(f"not a ticker symbol: {symbol!r}")
    return cleaned


def yahoo_chart_path(symbol: str, start: date, end: date) -> tuple[str, dict[str, str]]:
    """Path and query for Yahoo's v8 chart, daily bars with dividends and splits, `start` to
    `end` inclusive (period2 is exclusive, so it is the midnight after `end`, UTC)."""
    if end < start:
        raise ValueError(f"end {end} before start {start}")
    period1 = int(datetime.combine(start, time(), UTC).timestamp())
    period2 = int(datetime.combine(end + timedelta(days=1), time(), UTC).timestamp())
    return f"/v8/finance/chart/{_check_symbol(symbol)}", {
        "period1": str(period1),
        "period2": str(period2),
        "interval": "1d",
        "events": "div,splits",
    }


def unadjust_for_splits(prices: pl.DataFrame, splits: pl.DataFrame) -> pl.DataFrame:
    """Turn split-adjusted `close`/`volume` into as-traded values and mark split days.

    `prices`: PRICE_SCHEMA columns with split-adjusted close and volume. `splits`: symbol, date
    (first day at the new share count), split_ratio (e.g. 10.0 for 10-for-1). A row's factor is
    the product of the ratios of its symbol's splits dated after the row's day: close × factor,
    volume ÷ factor. `adj_close` is left alone. Rows of symbols without splits are unchanged.
    """
    if splits.height == 0:
        return prices
    splits = splits.select(SPLITS_SCHEMA.keys()).cast(SPLITS_SCHEMA)  # type: ignore[arg-type]
    # Suffix product of ratios per symbol: factor in force before each split day.
    later = (
        splits.sort("symbol", "date", descending=[False, True])
        .with_columns(factor=pl.col("split_ratio").cum_prod().over("symbol"))
        .select("symbol", "date", "factor")
        .sort("symbol", "date")
    )
    joined = (
        prices.sort("symbol", "date")
        .join_asof(
            later, on="date", by="symbol", strategy="forward", allow_exact_matches=False,
            check_sortedness=False,  # sorted just above, per symbol
        )
        .with_columns(factor=pl.col("factor").fill_null(1.0))
        .join(splits.rename({"split_ratio": "_split"}), on=["symbol", "date"], how="left")
    )
    return joined.with_columns(
        close=pl.col("close") * pl.col("factor"),
        volume=(pl.col("volume").cast(pl.Float64) / pl.col("factor")).round(0).cast(pl.Int64),
        split_ratio=pl.coalesce("_split", "split_ratio"),
    ).select(PRICE_SCHEMA.keys())


def _events(result: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(((result.get("events") or {}).get(kind) or {}).values())


def parse_yahoo_chart(payload: bytes) -> pl.DataFrame:
    """Parse one v8 chart response into PRICE_SCHEMA rows (close as traded, see module doc).

    Days with a null close (halts, partial days Yahoo leaves empty) are dropped and counted in
    the log. `chart.error` set → PriceSourceError with Yahoo's description.
    """
    try:
        doc = orjson.loads(payload)
        chart = doc["chart"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise PriceSourceError(f"not a Yahoo chart response: {payload[:80]!r}") from exc
    if chart.get("error"):
        error = chart["error"]
        raise PriceSourceError(
            f"Yahoo chart error {error.get('code')}: {error.get('description')}"
        )
    results = chart.get("result") or []
    if not results:
        raise PriceSourceError("Yahoo chart response has neither result nor error")
    result = results[0]
    meta = result.get("meta") or {}
    symbol = meta.get("symbol")
    timestamps = result.get("timestamp") or []
    if not symbol:
        raise PriceSourceError("Yahoo chart result has no meta.symbol")
    if not timestamps:
        return _empty()
    # Bars are stamped at the session open in UTC; the trading day is the exchange's date.
    tz = meta.get("exchangeTimezoneName") or "America/New_York"
    quote = (result.get("indicators", {}).get("quote") or [{}])[0]
    adjclose = (result.get("indicators", {}).get("adjclose") or [{}])[0].get("adjclose")
    n = len(timestamps)
    for name, values in [("close", quote.get("close")), ("volume", quote.get("volume")),
                         ("adjclose", adjclose)]:
        if values is not None and len(values) != n:
            raise PriceSourceError(f"{symbol}: {name} has {len(values)} values for {n} timestamps")

    def to_date(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.Int64).mul(1000).cast(pl.Datetime("ms", "UTC")).dt.convert_time_zone(tz).dt.date()

    bars = pl.DataFrame(
        {
            "ts": timestamps,
            "close": quote.get("close") or [None] * n,
            "adj_close": adjclose or [None] * n,
            "volume": quote.get("volume") or [None] * n,
        },
        schema={"ts": pl.Int64, "close": pl.Float64, "adj_close": pl.Float64, "volume": pl.Int64},
    ).select(
        symbol=pl.lit(symbol), date=to_date(pl.col("ts")), close="close", adj_close="adj_close",
        volume="volume",
    )
    dropped = bars["close"].null_count()
    if dropped:
        log.info("%s: %d of %d days without a close dropped", symbol, dropped, n)
    bars = bars.filter(pl.col("close").is_not_null())

    splits = pl.DataFrame(
        [(e["date"], e["numerator"] / e["denominator"]) for e in _events(result, "splits")],
        schema={"ts": pl.Int64, "split_ratio": pl.Float64}, orient="row",
    ).select(symbol=pl.lit(symbol), date=to_date(pl.col("ts")), split_ratio="split_ratio")
    dividends = pl.DataFrame(
        [(e["date"], e["amount"]) for e in _events(result, "dividends")],
        schema={"ts": pl.Int64, "dividend": pl.Float64}, orient="row",
    ).select(date=to_date(pl.col("ts")), dividend="dividend")
    frame = bars.join(dividends, on="date", how="left").with_columns(
        split_ratio=pl.lit(None, pl.Float64), source=pl.lit("yahoo_chart")
    ).select(PRICE_SCHEMA.keys())
    return unadjust_for_splits(frame.cast(PRICE_SCHEMA), splits)  # type: ignore[arg-type]


def stooq_symbol(symbol: str) -> str:
    """Stooq spells US tickers `aapl.us` and class shares `brk-b.us`; indices keep `^`."""
    cleaned = _check_symbol(symbol).lower().replace(".", "-")
    return cleaned if cleaned.startswith("^") else f"{cleaned}.us"


def stooq_path(symbol: str, api_key: str | None) -> tuple[str, dict[str, str]]:
    """Path and query for Stooq's daily CSV. Since about March 2026 Stooq wants an API key
    (pandas-datareader #1012); the parameter name `apikey` is our reading of that report, not
    documented by Stooq. The raw cache drops `apikey` from file names (rawcache.SECRET_PARAMS)."""
    params = {"s": stooq_symbol(symbol), "i": "d"}
    if api_key:
        params["apikey"] = api_key
    return "/q/d/l/", params


def parse_stooq_csv(payload: bytes, symbol: str, splits: pl.DataFrame | None = None) -> pl.DataFrame:
    """Parse Stooq's `Date,Open,High,Low,Close,Volume` CSV into PRICE_SCHEMA.

    Stooq's close is split-adjusted: pass `splits` to get closes as traded; without it the rows
    stay adjusted and the log says so. An HTML page (Stooq's answer without a valid key) →
    PriceSourceError naming the variable to set; the key itself never appears in messages.
    """
    head = payload.lstrip()[:300].lower()
    if head.startswith((b"<", b"<!doctype")) or b"<html" in head:
        raise PriceSourceError(
            f"Stooq answered an HTML page instead of CSV for {symbol}: set {STOOQ_KEY_ENV} "
            "to a Stooq API key (Stooq requires one since about March 2026)"
        )
    if head.startswith(b"no data") or not head:
        return _empty()
    frame = _read_price_csv(payload, ["Date", "Close"], f"Stooq CSV for {symbol}")
    out = frame.select(
        symbol=pl.lit(symbol),
        date=pl.col("Date").str.to_date("%Y-%m-%d", strict=False),
        close=pl.col("Close").cast(pl.Float64, strict=False),
        adj_close=pl.lit(None, pl.Float64),
        volume=(
            pl.col("Volume").cast(pl.Float64, strict=False).round(0).cast(pl.Int64)
            if "Volume" in frame.columns else pl.lit(None, pl.Int64)
        ),
        split_ratio=pl.lit(None, pl.Float64),
        dividend=pl.lit(None, pl.Float64),
        source=pl.lit("stooq"),
    )
    _refuse_rows_without_date_or_close(out, f"Stooq CSV for {symbol}")
    out = out.cast(PRICE_SCHEMA).sort("date")  # type: ignore[arg-type]
    if splits is None:
        log.warning("%s: Stooq closes left split-adjusted (no split table given)", symbol)
        return out
    return unadjust_for_splits(out, splits.filter(pl.col("symbol") == symbol))


def _read_price_csv(payload: bytes, required: list[str], what: str) -> pl.DataFrame:
    frame = pl.read_csv(io.BytesIO(payload), infer_schema=False)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PriceSourceError(f"{what} lacks {missing}; header {frame.columns}")
    return frame


def _refuse_rows_without_date_or_close(prices: pl.DataFrame, what: str) -> None:
    # A close we cannot date (or a date without a close) would silently drop out of a market
    # cap: refuse the payload, which keeps the last good one in the raw cache.
    bad = prices.filter(pl.col("date").is_null() | pl.col("close").is_null())
    if bad.height:
        raise PriceSourceError(f"{what}: {bad.height} row(s) without a date or close")


def parse_bundled_csv(payload: bytes, splits: pl.DataFrame) -> pl.DataFrame:
    """Parse the bundled Yahoo-style CSV (ticker,date,open,high,low,close,adj_close,volume,
    fetched_at) into PRICE_SCHEMA, un-adjusting its split-adjusted close and volume with
    `splits` (normally `load_splits()`, data/splits.csv). Dividends are not in the file (NULL).
    """
    frame = _read_price_csv(
        payload, ["ticker", "date", "close", "adj_close", "volume"], "bundled price CSV"
    )
    out = frame.select(
        symbol=pl.col("ticker"),
        date=pl.col("date").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        close=pl.col("close").cast(pl.Float64, strict=False),
        adj_close=pl.col("adj_close").cast(pl.Float64, strict=False),
        volume=pl.col("volume").cast(pl.Float64, strict=False).round(0).cast(pl.Int64),
        split_ratio=pl.lit(None, pl.Float64),
        dividend=pl.lit(None, pl.Float64),
        source=pl.lit("bundled:thndar/mag7-intel-lakehouse"),
    )
    _refuse_rows_without_date_or_close(out, "bundled price CSV")
    return unadjust_for_splits(out.cast(PRICE_SCHEMA), splits)  # type: ignore[arg-type]


def load_splits(path: Path | None = None) -> pl.DataFrame:
    """The sourced split table (data/splits.csv) as SPLITS_SCHEMA (ratio = numerator/denominator)."""
    from aiwatch.seeds import load_seed
    from aiwatch.settings import REPO_ROOT

    seed = load_seed(path or REPO_ROOT / "data" / "splits.csv")
    return seed.select(
        symbol="symbol",
        date=pl.col("date").cast(pl.Date),
        split_ratio=pl.col("numerator").cast(pl.Float64) / pl.col("denominator").cast(pl.Float64),
    )
