"""Market caps on the REAL bundled files: the thndar/mag7-intel-lakehouse price CSV and the
companyfacts payloads in snapshot/, through the offline loaders and the SQL models.

Expected market caps are worked out by hand below: the close read off the bundled CSV's row
(split-adjusted as shipped; NVIDIA's pre-June-2024 closes multiplied back by its 10:1 split,
data/splits.csv) times the share count read off the payload's fact, cited by accession.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from aiwatch import ingest, sqlmodels
from aiwatch.http import HttpClient
from aiwatch.settings import Settings
from aiwatch.warehouse import Warehouse

SEEDS = ["mag7", "hyperscalers", "ai_basket", "splits", "deals", "claims"]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    home = Path(tmp_path_factory.mktemp("market_real")) / "home"
    settings = Settings.from_env({"AIWATCH_HOME": str(home), "AIWATCH_OFFLINE": "1"})
    wh = Warehouse(settings)
    for name in SEEDS:
        ingest.load_seed(wh, name, name)
    with HttpClient(settings) as client:
        ingest.load_sec_tickers(client, wh)
        ingest.load_sp500_membership(client, wh)
        ingest.load_sec_companyfacts(client, wh, ingest.member_ciks(wh, settings.window_start))
        prices = ingest.load_prices(client, wh, ingest.price_symbols(wh, settings.window_start))
        fred = ingest.load_fred(client, wh, ingest.FRED_SERIES)
    assert prices.rows > 0 and fred.rows > 0 and not fred.missing
    with wh.writer() as connection:
        sqlmodels.run_all(connection, sqlmodels.discover(settings.sql_dir),
                          sqlmodels.model_variables(settings))
    connection = duckdb.connect(str(settings.build_db_path), read_only=True)
    yield connection
    connection.close()


# ticker, day, close as traded (bundled CSV), shares (payload fact), concept, accession
MARKET_CAPS = [
    # AAPL close 250.4199981689453; dei:EntityCommonStockSharesOutstanding 15,115,823,000 as of
    # 2024-10-18 (10-K FY2024, accn 0000320193-24-000123, cover page).
    # 250.4199981689453 x 15,115,823,000 = 3,785,304,367,982 USD (~$3.79tn)
    ("AAPL", date(2024, 12, 31), 250.4199981689453, 15_115_823_000,
     "dei:EntityCommonStockSharesOutstanding", "0000320193-24-000123"),
    # NVDA close 134.2899932861328 (after the 2024-06-10 split: as traded); dei 24,490,000,000
    # as of 2024-11-15 (10-Q for the quarter to 2024-10-27, accn 0001045810-24-000316).
    # 134.2899932861328 x 24,490,000,000 = 3,288,761,935,577 USD (~$3.29tn)
    ("NVDA", date(2024, 12, 31), 134.2899932861328, 24_490_000_000,
     "dei:EntityCommonStockSharesOutstanding", "0001045810-24-000316"),
    # GOOGL close 189.3000030517578; Alphabet has no dei count in companyfacts (per-class
    # cover counts are dimensioned), so the us-gaap:CommonStockSharesOutstanding total of
    # classes A+B+C: 12,211,000,000 at 2024-12-31 (10-K FY2024, accn 0001652044-25-000014).
    # 189.3000030517578 x 12,211,000,000 = 2,311,542,337,265 USD (~$2.31tn); every class at
    # the class A close (no GOOG in the bundled file).
    ("GOOGL", date(2024, 12, 31), 189.3000030517578, 12_211_000_000,
     "us-gaap:CommonStockSharesOutstanding", "0001652044-25-000014"),
    # NVDA before its 10:1 split: the file's close 49.52199935913086 is split-adjusted; as
    # traded 495.2199935913086. dei 2,470,000,000 as of 2023-11-17 (10-Q for the quarter to
    # 2023-10-29, accn 0001045810-23-000227), in pre-split shares.
    # 495.2199935913086 x 2,470,000,000 = 1,223,193,384,171 USD (~$1.22tn)
    ("NVDA", date(2023, 12, 29), 495.2199935913086, 2_470_000_000,
     "dei:EntityCommonStockSharesOutstanding", "0001045810-23-000227"),
]


@pytest.mark.parametrize(("ticker", "day", "close", "shares", "concept", "accn"), MARKET_CAPS)
def test_mag7_market_caps_equal_price_times_filed_shares(
    con: duckdb.DuckDBPyConnection, ticker: str, day: date, close: float, shares: int,
    concept: str, accn: str,
) -> None:
    row = con.execute(
        "select close, shares, shares_concept, shares_accn, market_cap from staging.market_caps "
        "where ticker = ? and date = ?", [ticker, day],
    ).fetchone()
    assert row is not None
    got_close, got_shares, got_concept, got_accn, market_cap = row
    assert got_close == pytest.approx(close, rel=1e-9)
    assert got_shares == pytest.approx(shares, rel=1e-9)
    assert (got_concept, got_accn) == (concept, accn)
    assert market_cap == pytest.approx(close * shares, rel=1e-9)


def test_stale_counts_are_not_carried_forward(con: duckdb.DuckDBPyConnection) -> None:
    # MSFT's and AMZN's bundled payloads are 2022Q1 vintage (last dei count 2022-04-21 and
    # 2022-04-20): more than 185 days later they have a price but no market cap.
    rows = con.execute(
        "select ticker, close is not null, market_cap from staging.market_caps "
        "where ticker in ('MSFT', 'AMZN') and date = date '2023-12-29' order by ticker"
    ).fetchall()
    assert rows == [("AMZN", True, None), ("MSFT", True, None)]


def test_concentration_is_null_with_its_coverage_offline(con: duckdb.DuckDBPyConnection) -> None:
    # The snapshot prices the Mag7 only and has companyfacts for 8 companies: the index's
    # cap cannot be summed, so the share is NULL (never a guess) and coverage says why.
    rows = con.execute(
        "select date, members, members_covered, mag7_members, mag7_members_covered, "
        "mag7_share from marts.market_concentration "
        "where date in (date '2023-12-29', date '2024-12-31') order by date"
    ).fetchall()
    assert len(rows) == 2
    for _, members, covered, mag7_members, mag7_covered, share in rows:
        assert members > 490 and covered == 3 and mag7_members == 7 and mag7_covered == 3
        assert share is None


def test_return_contribution_company_rows_are_start_and_end_caps(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Base date 2022-11-30 (a trading day); AAPL dei count then: the one of the 10-K FY2022.
    row = con.execute(
        "select start_date, end_date, market_cap_end - market_cap_start - contribution "
        "from marts.return_contribution where ticker = 'AAPL'"
    ).fetchone()
    assert row[0] == date(2022, 11, 30) and row[1] == date(2025, 12, 3) and row[2] == 0


def test_nvidia_deepseek_day_is_its_largest_move(con: duckdb.DuckDBPyConnection) -> None:
    # 2025-01-27 (DeepSeek): NVDA's largest one-day drop in the window; about -$590bn.
    row = con.execute(
        "select date, change from marts.market_cap_moves where ticker = 'NVDA' and move_rank = 1"
    ).fetchone()
    assert row[0] == date(2025, 1, 27)
    assert -650e9 < row[1] < -550e9
