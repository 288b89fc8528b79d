"""Raw assets: each fetches one source through the polite client, keeps every response in the
raw cache, and replaces one `raw.*` table. The library does the work (`aiwatch.ingest`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from aiwatch import ingest
from aiwatch.settings import REPO_ROOT
from pipelines.metadata import FETCH_CHECK, fetch_check, load_metadata
from pipelines.resources import AiwatchResource

# Every asset here writes DuckDB; the warehouse's own lock serializes the writes, and the
# downloads before them run in parallel under the shared SEC rate limiter.
KINDS = {"duckdb", "python"}


def _result(
    result: ingest.LoadResult, aiwatch: AiwatchResource, *, with_fetch_check: bool = False
) -> dg.MaterializeResult:
    offline = aiwatch.settings().offline
    return dg.MaterializeResult(
        metadata=load_metadata(result, offline=offline),
        check_results=[fetch_check(result, offline=offline)] if with_fetch_check else None,
    )


def _fetch_check_spec(key: list[str]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            FETCH_CHECK,
            asset=dg.AssetKey(key),
            description="Every company's document was served or already current; a failure "
            "(after retries) keeps that company's last good rows and is listed here.",
        )
    ]


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


# Curated seeds in data/ (each row sourced; data/README.md says what each is): asset raw/<stem>.
SEED_DESCRIPTIONS = {
    "mag7": "The Magnificent Seven (Apple, Microsoft, NVIDIA, Alphabet, Amazon, Meta, Tesla): one "
    "row per listed ticker (Alphabet twice) with its CIK and a source, from data/mag7.csv.",
    "hyperscalers": "The hyperscalers whose capex the AI-capex-vs-GDP mart sums (MSFT, AMZN, "
    "GOOGL, META, ORCL), each with the reason and a source, from data/hyperscalers.csv.",
    "ai_basket": "The configurable 'AI-related' basket for return contribution (JPMorgan's basket "
    "is not public: a documented approximation), from data/ai_basket.csv.",
    "splits": "Stock splits of the Mag7 since 2020, to turn split-adjusted closes into prices as "
    "traded, from data/splits.csv.",
    "deals": "Publicly reported AI deals (investor→investee, customer→supplier), one row per "
    "relationship with amount, date and source URL, from data/deals.csv.",
    "claims": "The claims of the source article, one row each with the cited figure, who is "
    "cited and the metric that recomputes it, from data/claims.csv.",
}


def build_seed_asset(name: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", name],
        group_name="seeds",
        kinds={"duckdb", "csv"},
        description=description,
        code_version=_file_hash(REPO_ROOT / "data" / f"{name}.csv"),
    )
    def _seed(aiwatch: AiwatchResource) -> dg.MaterializeResult:
        return _result(ingest.load_seed(aiwatch.warehouse(), name, description), aiwatch)

    return _seed


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


seed_assets = [build_seed_asset(name, text) for name, text in SEED_DESCRIPTIONS.items()]
mag7 = seed_assets[0]


@dg.asset(key=["raw", "sec_companyfacts"], deps=[sp500_membership, mag7], group_name="sec",
          kinds=KINDS, check_specs=_fetch_check_spec(["raw", "sec_companyfacts"]))
def sec_companyfacts(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """Every XBRL fact of every company that was an S&P 500 member since the window start
    (`AIWATCH_WINDOW_START`, default 2019-01-01), long form, as filed: cik, taxonomy, concept,
    unit, start, end, val, accn, fy, fp, form, filed, frame. Source: data.sec.gov companyfacts."""
    wh = aiwatch.warehouse()
    ciks = ingest.member_ciks(wh, wh.settings.window_start)
    # Incremental: only members that filed since the last load are downloaded (raw.refresh_log).
    with aiwatch.client() as client:
        return _result(ingest.load_sec_companyfacts(client, wh, ciks), aiwatch,
                       with_fetch_check=True)


@dg.asset(key=["raw", "sec_filings"], deps=[sp500_membership, mag7], group_name="sec",
          kinds=KINDS, check_specs=_fetch_check_spec(["raw", "sec_filings"]))
def sec_filings(aiwatch: AiwatchResource) -> dg.MaterializeResult:
    """The EDGAR filing index of every member since the window start: form, filing date,
    report date, accession, fiscal year end. Source: data.sec.gov submissions (with the
    overflow pages that reach into the window)."""
    wh = aiwatch.warehouse()
    ciks = ingest.member_ciks(wh, wh.settings.window_start)
    with aiwatch.client() as client:
        return _result(ingest.load_sec_filings(client, wh, ciks, wh.settings.window_start),
                       aiwatch, with_fetch_check=True)


raw_assets = [sec_tickers, sp500_membership, sec_companyfacts, sec_filings, *seed_assets]
