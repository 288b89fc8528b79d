"""SYNTHETIC S&P 500 universe in SEC companyfacts format, with answers a person can compute.

Every figure here is SYNTHETIC (made up); every entityName says so. The payloads have the shape
of data.sec.gov's companyfacts JSON: 10-Qs carry three-month income facts and year-to-date
cash-flow facts, 10-Ks the full year, every filing repeats the prior year as a comparative
(with the filing's own `fy`/`fp`), and fiscal Q4 three-month facts never exist.

Values are simple so the tests can state the expected marts by hand (millions of USD):
    net income  of fiscal year Y, quarter q = 100 * (Y - 2020) + 10 * q    (FY = 400*(Y-2020)+100)
    capex       of fiscal year Y, quarter q =  40 * (Y - 2020) + q         (FY = 160*(Y-2020)+10)
    revenue = 10 x net income, operating cash flow = 2 x net income, D&A = 30 a quarter;
    the seven synthetic Mag7 companies are 10x that.

`universe()` is the hand-computable set: December, September, January and June year-ends, a
revenue concept switch, a restatement, a 10-K/A amendment, a missing Q1, a member that joins
and one that leaves mid-2023, an S&P member without a CIK, and the Mag7 (synthetic CIKs, real
tickers, GOOGL and GOOG sharing one CIK). `generate(n, seed)` scales the same format to ~503
companies for benchmarks. `build_warehouse` loads payloads and seed rows into the raw tables
the SQL models read and runs the models (shared by the synthetic and the real-filings tests).
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import orjson
import polars as pl

from aiwatch import sqlmodels
from aiwatch.sec import companyfacts
from aiwatch.settings import REPO_ROOT

MILLION = 1_000_000
FIRST_YEAR, LAST_YEAR = 2021, 2024
CONCEPTS = {
    "revenue": "RevenueFromContractWithCustomerExcludingAssessedTax",
    "net_income": "NetIncomeLoss",
    "capex": "PaymentsToAcquirePropertyPlantAndEquipment",
    "depreciation_amortization": "DepreciationDepletionAndAmortization",
    "operating_cash_flow": "NetCashProvidedByUsedInOperatingActivities",
}
# Cash-flow items are year-to-date only in 10-Qs; income items also have three-month facts.
CASH_FLOW = {"capex", "depreciation_amortization", "operating_cash_flow"}


@dataclass
class SyntheticCompany:
    """One SYNTHETIC filer: its fiscal year-end month, scale and the special events it shows."""

    cik: int
    ticker: str
    fye_month: int = 12
    scale: int = 1
    first_year: int = FIRST_YEAR
    last_year: int = LAST_YEAR
    # metric -> (first fiscal year of the new tag, new tag): filings from that year on use it.
    concept_switch: dict[str, tuple[int, str]] = field(default_factory=dict)
    # (metric, fiscal year) -> value (millions) that the NEXT year's 10-K reports instead.
    restated_fy: dict[tuple[str, int], float] = field(default_factory=dict)
    # (metric, fiscal year) -> value (millions) a 10-K/A filed later reports for the year.
    amended_fy: dict[tuple[str, int], float] = field(default_factory=dict)
    # (fiscal year, quarter) of 10-Qs never filed.
    missing_10q: set[tuple[int, int]] = field(default_factory=set)
    member_start: date = date(2015, 1, 2)
    member_end: date | None = None
    mag7: bool = False
    extra_concepts: int = 0


def quarter_value(metric: str, fiscal_year: int, quarter: int, scale: int = 1) -> float:
    """The SYNTHETIC discrete-quarter value in millions (see the module docstring)."""
    net_income = 100 * (fiscal_year - 2020) + 10 * quarter
    value = {
        "net_income": net_income,
        "revenue": 10 * net_income,
        "operating_cash_flow": 2 * net_income,
        "capex": 40 * (fiscal_year - 2020) + quarter,
        "depreciation_amortization": 30,
    }[metric]
    return float(value * scale)


def _month_end(year: int, month: int) -> date:
    while month > 12:
        year, month = year + 1, month - 12
    return date(year, month, calendar.monthrange(year, month)[1])


def quarter_ends(fye_month: int, fiscal_year: int) -> list[date]:
    """Last days of Q1..Q4 of a fiscal year ending on the last day of `fye_month`."""
    prior_end_year = fiscal_year - 1
    return [_month_end(prior_end_year, fye_month + 3 * q) for q in range(1, 5)]


def fiscal_year_start(fye_month: int, fiscal_year: int) -> date:
    return _month_end(fiscal_year - 1, fye_month) + timedelta(days=1)


def _payload(company: SyntheticCompany) -> bytes:
    facts: dict[str, dict[str, list[dict]]] = {}
    seq = 0

    def concept_for(metric: str, filing_year: int) -> str:
        switch = company.concept_switch.get(metric)
        if switch and filing_year >= switch[0]:
            return switch[1]
        return CONCEPTS[metric]

    def add(concept: str, start: date, end: date, val: float, accn: str, fy: int, fp: str,
            form: str, filed: date) -> None:
        facts.setdefault(concept, []).append({
            "start": start.isoformat(), "end": end.isoformat(), "val": int(round(val * MILLION)),
            "accn": accn, "fy": fy, "fp": fp, "form": form, "filed": filed.isoformat(),
        })

    def ytd(metric: str, year: int, quarters: int) -> float:
        return sum(quarter_value(metric, year, q, company.scale) for q in range(1, quarters + 1))

    for year in range(company.first_year, company.last_year + 1):
        ends = quarter_ends(company.fye_month, year)
        for filing_q in range(1, 5):
            if filing_q < 4 and (year, filing_q) in company.missing_10q:
                continue
            seq += 1
            form = "10-K" if filing_q == 4 else "10-Q"
            fp = "FY" if filing_q == 4 else f"Q{filing_q}"
            filed = ends[filing_q - 1] + timedelta(days=50 if filing_q == 4 else 35)
            accn = f"{company.cik:010d}-{filed.year % 100:02d}-{seq:06d}"
            # the current year and the prior-year comparative
            for period_year in (year, year - 1):
                if period_year < company.first_year:
                    continue
                p_ends = quarter_ends(company.fye_month, period_year)
                p_start = fiscal_year_start(company.fye_month, period_year)
                for metric in CONCEPTS:
                    concept = concept_for(metric, year)
                    value = ytd(metric, period_year, filing_q)
                    # a later 10-K repeats the restated or amended full-year figure
                    restated = company.restated_fy.get(
                        (metric, period_year), company.amended_fy.get((metric, period_year)))
                    if filing_q == 4 and period_year < year and restated is not None:
                        value = restated * company.scale
                    add(concept, p_start, p_ends[filing_q - 1], value, accn, year, fp, form, filed)
                    if metric not in CASH_FLOW and 1 < filing_q < 4:
                        q_start = p_ends[filing_q - 2] + timedelta(days=1)
                        add(concept, q_start, p_ends[filing_q - 1],
                            quarter_value(metric, period_year, filing_q, company.scale),
                            accn, year, fp, form, filed)
                for k in range(company.extra_concepts):
                    add(f"SyntheticFillerConcept{k:03d}", p_start, p_ends[filing_q - 1],
                        float(k + filing_q), accn, year, fp, form, filed)
        for (metric, amended_year), value in company.amended_fy.items():
            if amended_year != year:
                continue
            seq += 1
            filed = ends[3] + timedelta(days=200)
            accn = f"{company.cik:010d}-{filed.year % 100:02d}-{seq:06d}"
            add(concept_for(metric, year), fiscal_year_start(company.fye_month, year), ends[3],
                value * company.scale, accn, year, "FY", "10-K/A", filed)

    body = {
        "cik": company.cik,
        "entityName": f"SYNTHETIC {company.ticker} (test data, not a real company)",
        "facts": {"us-gaap": {
            concept: {"label": concept, "description": "SYNTHETIC", "units": {"USD": rows}}
            for concept, rows in facts.items()
        }},
    }
    return orjson.dumps(body)


def universe_companies() -> list[SyntheticCompany]:
    """The hand-computable SYNTHETIC universe (see the module docstring and the tests)."""
    mag7 = [
        SyntheticCompany(9100001 + i, ticker, scale=10, mag7=True)
        for i, ticker in enumerate(["AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "META", "TSLA"])
    ]
    others = [
        # December year-end; revenue moves to `Revenues` from FY2023 (comparatives restated under
        # the new tag); the FY2023 10-K restates FY2022 net income from 900 to 905.
        SyntheticCompany(9000001, "DECM", concept_switch={"revenue": (2023, "Revenues")},
                         restated_fy={("net_income", 2022): 905.0}),
        SyntheticCompany(9000002, "SEPT", fye_month=9),   # Apple-like
        SyntheticCompany(9000003, "JANF", fye_month=1),   # NVIDIA-like: FY2024 ends 2024-01-31
        SyntheticCompany(9000004, "JUNF", fye_month=6),   # Microsoft-like
        # a 10-K/A raises FY2023 capex from 490 to 497
        SyntheticCompany(9000005, "AMND", amended_fy={("capex", 2023): 497.0}),
        # no Q1 FY2023 10-Q, and no later filings that would repeat Q1 2023
        SyntheticCompany(9000006, "MISS", last_year=2023, missing_10q={(2023, 1)}),
        SyntheticCompany(9000007, "JOIN", member_start=date(2023, 5, 15)),
        SyntheticCompany(9000008, "LEAV", member_end=date(2023, 8, 1)),
    ]
    return mag7 + others


def payloads(companies: Iterable[SyntheticCompany]) -> dict[int, bytes]:
    return {c.cik: _payload(c) for c in companies}


def universe() -> dict[int, bytes]:
    """SYNTHETIC companyfacts payloads of the hand-computable universe, by CIK."""
    return payloads(universe_companies())


def mag7_rows(companies: Iterable[SyntheticCompany]) -> list[tuple[str, int, str, str]]:
    """raw.mag7 rows: GOOG shares GOOGL's CIK, as at SEC."""
    rows = []
    for c in companies:
        if c.mag7:
            rows.append((c.ticker, c.cik, f"SYNTHETIC {c.ticker}", "synthetic"))
            if c.ticker == "GOOGL":
                rows.append(("GOOG", c.cik, "SYNTHETIC GOOG", "synthetic"))
    return rows


def membership_rows(companies: Iterable[SyntheticCompany], as_of: date = date(2025, 6, 30)
                    ) -> list[tuple]:
    """raw.sp500_membership rows, plus one member with no CIK mapping ('NOCIK')."""
    rows = []
    for c in companies:
        tickers = [c.ticker, "GOOG"] if c.ticker == "GOOGL" else [c.ticker]
        for ticker in tickers:
            rows.append((ticker, c.cik, f"SYNTHETIC {ticker}", c.member_start, c.member_end, as_of,
                         "synthetic", "synthetic"))
    rows.append(("NOCIK", None, "SYNTHETIC unmapped member", date(2015, 1, 2), None, as_of,
                 None, "synthetic"))
    return rows


def generate(n_companies: int, seed: int, extra_concepts: int = 60) -> dict[int, bytes]:
    """SYNTHETIC payloads for `n_companies` (e.g. 503) with random year-ends and scales.

    With the default 60 filler concepts a company carries ~9k facts over 2019-2025; raise
    `extra_concepts` to approach real S&P 500 fact counts (~26k a company).
    """
    rng = random.Random(seed)
    companies = [
        SyntheticCompany(
            8000000 + i, f"SYN{i:03d}", fye_month=rng.choice([12, 12, 12, 9, 6, 1, 3]),
            scale=rng.randint(1, 50), first_year=2019, last_year=2025,
            extra_concepts=extra_concepts,
        )
        for i in range(n_companies)
    ]
    return payloads(companies)


FUNDAMENTALS_MODELS = {
    "staging.metric_concepts", "staging.facts_current", "staging.fiscal_years",
    "staging.facts_selected", "staging.quarters", "staging.companies",
    "staging.membership_quarterly", "marts.fundamentals_quarterly", "marts.fundamentals_annual",
    "marts.fundamentals_calendar_quarter", "marts.fundamentals_calendar_year",
    "marts.mag7_earnings_share", "marts.capex_growth", "marts.capex_growth_ttm",
}
RAW_DDL = {
    "raw.mag7": "ticker varchar, cik bigint, company varchar, source varchar",
    "raw.sp500_membership": "ticker varchar, cik bigint, name varchar, start_date date, "
    "end_date date, as_of date, cik_source varchar, source varchar",
    "raw.sec_tickers": "cik bigint, ticker varchar, title varchar",
    "raw.sec_filings": "cik bigint, accn varchar, form varchar, filed date, report_date date, "
    "acceptance_datetime timestamp, fiscal_year_end varchar, is_xbrl boolean, "
    "primary_document varchar",
}


def build_warehouse(
    con: duckdb.DuckDBPyConnection,
    companyfacts_payloads: Mapping[int, bytes] | Iterable[bytes],
    mag7: Iterable[tuple],
    membership: Iterable[tuple],
    window_start: date = date(2019, 1, 1),
    sql_dir: Path = REPO_ROOT / "sql",
) -> dict[str, int]:
    """Load raw tables (companyfacts parsed by the library) and run every SQL model."""
    bodies = companyfacts_payloads.values() if isinstance(companyfacts_payloads, Mapping) \
        else companyfacts_payloads
    facts = pl.concat([companyfacts.parse(body) for body in bodies], how="vertical_relaxed")
    for schema in ("raw", "staging", "marts"):
        con.execute(f"create schema if not exists {schema}")
    con.register("facts_frame", facts.to_arrow())
    con.execute("create or replace table raw.sec_companyfacts as select * from facts_frame")
    con.unregister("facts_frame")
    for table, columns in RAW_DDL.items():
        con.execute(f"create or replace table {table} ({columns})")
    placeholders = lambda n: ", ".join("?" * n)  # noqa: E731 - two uses, one line
    mag7 = list(mag7)
    membership = list(membership)
    if mag7:
        con.executemany(f"insert into raw.mag7 values ({placeholders(4)})", mag7)
    if membership:
        con.executemany(f"insert into raw.sp500_membership values ({placeholders(8)})", membership)
    # only the fundamentals models: other marts read raw tables these tests do not load
    models = [m for m in sqlmodels.discover(sql_dir) if m.table in FUNDAMENTALS_MODELS]
    return sqlmodels.run_all(con, models, {"window_start": window_start})


def run_audit(con: duckdb.DuckDBPyConnection, name: str, sql_dir: Path = REPO_ROOT / "sql"
              ) -> list[tuple]:
    """The offending rows of `sql/audits/<name>.sql`."""
    return con.execute((sql_dir / "audits" / f"{name}.sql").read_text()).fetchall()
