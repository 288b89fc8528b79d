"""The fundamentals models on REAL companyfacts payloads (snapshot/ and /work/shared-derived
copies bundled there): AAPL, NVDA, GOOGL (2026 vintage), MSFT, AMZN, META (2022Q1 vintage).

Expected figures were read off each payload's own 10-K / 10-Q rows, by accession number (the
filing in which the period is the current one), not from running the models. Derived quarters
are stated as the two filed figures they come from.
"""

from __future__ import annotations

import duckdb
import pytest
import synthetic_universe as su
from conftest import SNAPSHOT_DIR

COMPANYFACTS = SNAPSHOT_DIR / "data.sec.gov" / "api" / "xbrl" / "companyfacts"
CIKS = {"AAPL": 320193, "MSFT": 789019, "NVDA": 1045810, "GOOGL": 1652044, "AMZN": 1018724,
        "META": 1326801}
B = 1_000_000_000


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    payloads = [(COMPANYFACTS / f"CIK{cik:010d}.json").read_bytes() for cik in CIKS.values()]
    mag7 = [(t, cik, t, "test") for t, cik in CIKS.items()] + [("GOOG", 1652044, "GOOG", "test")]
    connection = duckdb.connect()
    su.build_warehouse(connection, payloads, mag7, membership=[])
    return connection


# ticker, fiscal_year, net income, capex (USD) — each from the 10-K's full-year fact:
ANNUAL = [
    # AAPL 10-K FY2024, accn 0000320193-24-000123 (2023-10-01..2024-09-28)
    ("AAPL", 2024, 93_736_000_000, 9_447_000_000),
    # AAPL 10-K FY2025, accn 0000320193-25-000079 (2024-09-29..2025-09-27)
    ("AAPL", 2025, 112_010_000_000, 12_715_000_000),
    # NVDA 10-K FY2025, accn 0001045810-25-000023 (2024-01-29..2025-01-26);
    # capex tag PaymentsToAcquireProductiveAssets
    ("NVDA", 2025, 72_880_000_000, 3_236_000_000),
    # NVDA 10-K FY2026, accn 0001045810-26-000021 (2025-01-27..2026-01-25)
    ("NVDA", 2026, 120_067_000_000, 6_042_000_000),
    # GOOGL 10-K FY2024, accn 0001652044-25-000014; FY2025, accn 0001652044-26-000018
    ("GOOGL", 2024, 100_118_000_000, 52_535_000_000),
    ("GOOGL", 2025, 132_170_000_000, 91_447_000_000),
    # MSFT 10-K FY2021, accn 0001564590-21-039151 (2020-07-01..2021-06-30)
    ("MSFT", 2021, 61_271_000_000, 20_622_000_000),
    # AMZN 10-K FY2021, accn 0001018724-22-000005; capex tag PaymentsToAcquireProductiveAssets
    ("AMZN", 2021, 33_364_000_000, 61_053_000_000),
    # META 10-K FY2021, accn 0001326801-22-000018
    ("META", 2021, 39_370_000_000, 18_567_000_000),
]


@pytest.mark.parametrize(("ticker", "fiscal_year", "net_income", "capex"), ANNUAL)
def test_annual_equals_10k(con, ticker, fiscal_year, net_income, capex):
    row = con.execute(
        "select net_income, capex from marts.fundamentals_annual where cik = ? and fiscal_year = ?",
        [CIKS[ticker], fiscal_year],
    ).fetchall()
    assert row == [(net_income, capex)]


def test_nvidia_capex_concept_and_fiscal_year_2026(con):
    row = con.execute(
        "select period_start, period_end, capex_concept, ticker from marts.fundamentals_annual "
        "where cik = 1045810 and fiscal_year = 2026").fetchone()
    assert (str(row[0]), str(row[1])) == ("2025-01-27", "2026-01-25")
    assert row[2] == "PaymentsToAcquireProductiveAssets"
    assert row[3] == "NVDA"


# ticker, fiscal_year, fiscal_period, net income, its method, capex, calendar_quarter
QUARTERS = [
    # AAPL fiscal Q4 2024 = 10-K FY2024 (accn 0000320193-24-000123) 93,736m - 10-Q Q3 FY2024
    # nine months (accn 0000320193-24-000081) 79,000m; capex 9,447m - 6,539m.
    # Period 2024-06-30..2024-09-28: midpoint in 2024Q3.
    ("AAPL", 2024, "Q4", 14_736_000_000, "derived", 2_908_000_000, "2024Q3"),
    # AAPL fiscal Q4 2025 = 10-K FY2025 (0000320193-25-000079) 112,010m - 10-Q Q3 FY2025 9M
    # (0000320193-25-000073) 84,544m; capex 12,715m - 9,473m.
    ("AAPL", 2025, "Q4", 27_466_000_000, "derived", 3_242_000_000, "2025Q3"),
    # NVDA fiscal Q4 2026 = 10-K FY2026 (0001045810-26-000021) 120,067m - 10-Q Q3 FY2026 9M
    # (0001045810-25-000230) 77,107m; capex 6,042m - 4,758m. 2025-10-27..2026-01-25 -> 2025Q4.
    ("NVDA", 2026, "Q4", 42_960_000_000, "derived", 1_284_000_000, "2025Q4"),
]


@pytest.mark.parametrize(
    ("ticker", "fiscal_year", "fiscal_period", "net_income", "method", "capex", "calendar_quarter"),
    QUARTERS,
)
def test_quarter_equals_filings(
    con, ticker, fiscal_year, fiscal_period, net_income, method, capex, calendar_quarter
):
    row = con.execute(
        "select net_income, net_income_method, capex, calendar_quarter "
        "from marts.fundamentals_quarterly where cik = ? and fiscal_year = ? and fiscal_period = ?",
        [CIKS[ticker], fiscal_year, fiscal_period],
    ).fetchall()
    assert row == [(net_income, method, capex, calendar_quarter)]


def test_reported_quarter_and_off_calendar_assignment(con):
    # NVDA 10-Q Q3 FY2026 (accn 0001045810-25-000230): three months 2025-07-28..2025-10-26,
    # net income 31,910m, reported; midpoint 2025-09-10 -> 2025Q3.
    # AAPL 10-Q Q1 FY2026 (accn 0000320193-26-000006): 2025-09-28..2025-12-27 -> 2025Q4.
    rows = con.execute(
        "select ticker, fiscal_year, fiscal_period, net_income_method, calendar_quarter, "
        "net_income from marts.fundamentals_quarterly where (cik = 1045810 and fiscal_year = 2026 "
        "and fiscal_period = 'Q3') or (cik = 320193 and fiscal_year = 2026 and fiscal_period = 'Q1')"
        " order by ticker").fetchall()
    assert rows[1] == ("NVDA", 2026, "Q3", "reported", "2025Q3", 31_910_000_000)
    assert rows[0][:5] == ("AAPL", 2026, "Q1", "reported", "2025Q4")


def test_ttm_is_four_discrete_quarters(con):
    # AAPL net income TTM at fiscal Q4 2025 equals the FY2025 10-K figure
    ttm = con.execute(
        "select net_income_ttm from marts.fundamentals_quarterly "
        "where cik = 320193 and fiscal_year = 2025 and fiscal_period = 'Q4'").fetchone()[0]
    assert ttm == 112_010_000_000


def test_alphabet_is_one_company_shown_as_googl(con):
    tickers = con.execute(
        "select distinct ticker from marts.fundamentals_annual where cik = 1652044").fetchall()
    assert tickers == [("GOOGL",)]


@pytest.mark.parametrize("audit", [
    "fundamentals_quarterly__unique_key", "fundamentals_annual__unique_key",
    "fundamentals_quarterly__implausible_derived",
])
def test_audits_pass_on_real_filings(con, audit):
    assert su.run_audit(con, audit) == []
