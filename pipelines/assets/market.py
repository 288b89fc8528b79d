"""Market and macro assets: daily prices and FRED series, fetched through the polite client
into `raw.prices_daily` and `raw.fred_series` (the library does the work: `aiwatch.ingest`)."""

from __future__ import annotations

import dagster as dg

from aiwatch import ingest
from pipelines.assets.raw import mag7, sp500_membership
from pipelines.metadata import load_metadata
from pipelines.resources import AiwatchResource

KINDS = {"duckdb", "python"}


@dg.asset(key=["raw", "prices_daily"], deps=[sp500_membership, mag7], group_name="market",
          kinds=KINDS)
def prices_daily(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """Daily prices of every S&P 500 member since the window start, the Mag7 listings and the
    index (^GSPC): close as traded (split-unadjusted, for market caps), adjusted close, volume,
    split days. Live: Yahoo's v8 chart (or Stooq with a key), only the days after the last
    stored day. Offline: the bundled thndar/mag7-intel-lakehouse CSV (Mag7 only)."""
    wh = aiwatch.warehouse()
    symbols = ingest.price_symbols(wh, wh.settings.window_start)
    with aiwatch.client() as client:
        result = ingest.load_prices(client, wh, symbols, source=wh.settings.prices_source)
    return dg.MaterializeResult(metadata=load_metadata(result, offline=wh.settings.offline))


@dg.asset(key=["raw", "fred_series"], group_name="macro", kinds=KINDS)
def fred_series(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """FRED series, long form (series_id, date, value): nominal GDP (GDP, quarterly, $bn
    SAAR), private fixed investment in information processing equipment and software
    (A679RC1Q027SBEA) and the S&P 500 daily close (SP500). Live: fred.stlouisfed.org
    fredgraph.csv (no key); offline: the bundled copies listed in snapshot/SOURCES.md."""
    wh = aiwatch.warehouse()
    with aiwatch.client() as client:
        result = ingest.load_fred(client, wh, ingest.FRED_SERIES)
    return dg.MaterializeResult(metadata=load_metadata(result, offline=wh.settings.offline))


market_assets = [prices_daily, fred_series]
