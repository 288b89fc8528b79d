"""Raw assets: each fetches one source through the polite client, keeps every response in the
raw cache, and replaces one `raw.*` table. The library does the work (`aiwatch.ingest`)."""

from __future__ import annotations

import dagster as dg

from aiwatch import ingest
from pipelines.metadata import load_metadata
from pipelines.resources import AiwatchResource

# Every asset here writes DuckDB; the warehouse's own lock serializes the writes, and the
# downloads before them run in parallel under the shared SEC rate limiter.
KINDS = {"duckdb", "python"}


def _result(result: ingest.LoadResult, aiwatch: AiwatchResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=load_metadata(result, offline=aiwatch.settings().offline))


@dg.asset(key=["raw", "sec_tickers"], group_name="sec", kinds=KINDS)
def sec_tickers(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """SEC's `company_tickers.json`: ticker → CIK for every listed company (Alphabet twice:
    GOOGL and GOOG). Source: www.sec.gov/files/company_tickers.json."""
    with aiwatch.client() as client:
        return _result(ingest.load_sec_tickers(client, aiwatch.warehouse()), aiwatch)


@dg.asset(
    key=["raw", "sp500_membership"],
    deps=[sec_tickers],
    group_name="membership",
    kinds=KINDS,
)
def sp500_membership(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """S&P 500 membership, point in time: one interval per ticker and stay, with the CIK
    (from the constituents lists, else SEC's ticker map). Sources: the public CSVs of
    `fja05680/sp500` (intervals, changes) and `datasets/s-and-p-500-companies` (constituents)."""
    with aiwatch.client() as client:
        return _result(ingest.load_sp500_membership(client, aiwatch.warehouse()), aiwatch)


@dg.asset(key=["raw", "mag7"], group_name="seeds", kinds={"duckdb", "csv"})
def mag7(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """The Magnificent Seven (Apple, Microsoft, NVIDIA, Alphabet, Amazon, Meta, Tesla): one row
    per listed ticker with its CIK and a source, from `data/mag7.csv`."""
    result = ingest.load_seed(
        aiwatch.warehouse(), "mag7",
        "The Magnificent Seven: one row per listed ticker (Alphabet twice), from data/mag7.csv",
    )
    return _result(result, aiwatch)


@dg.asset(key=["raw", "sec_companyfacts"], deps=[sp500_membership, mag7], group_name="sec",
          kinds=KINDS)
def sec_companyfacts(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """Every XBRL fact of every company that was an S&P 500 member since the window start
    (`AIWATCH_WINDOW_START`, default 2019-01-01), long form, as filed: cik, taxonomy, concept,
    unit, start, end, val, accn, fy, fp, form, filed, frame. Source: data.sec.gov companyfacts."""
    wh = aiwatch.warehouse()
    ciks = ingest.member_ciks(wh, wh.settings.window_start)
    with aiwatch.client() as client:
        return _result(ingest.load_sec_companyfacts(client, wh, ciks), aiwatch)


@dg.asset(key=["raw", "sec_filings"], deps=[sp500_membership, mag7], group_name="sec",
          kinds=KINDS)
def sec_filings(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """The EDGAR filing index of every member since the window start: form, filing date,
    report date, accession, fiscal year end. Source: data.sec.gov submissions (with the
    overflow pages that reach into the window)."""
    wh = aiwatch.warehouse()
    ciks = ingest.member_ciks(wh, wh.settings.window_start)
    with aiwatch.client() as client:
        return _result(
            ingest.load_sec_filings(client, wh, ciks, wh.settings.window_start), aiwatch
        )


raw_assets = [sec_tickers, sp500_membership, mag7, sec_companyfacts, sec_filings]
