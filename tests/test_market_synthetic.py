"""The market models on a SYNTHETIC index (made-up companies, CIKs 1-5, prices and share
counts), with answers computed by hand: return contribution, the us-gaap shares fallback, and
the rejection of placeholder and absurd share counts."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from aiwatch import sqlmodels
from aiwatch.prices import PRICE_SCHEMA
from aiwatch.settings import REPO_ROOT

MODELS = ["staging/companies", "staging/split_events", "staging/shares_outstanding",
          "staging/market_caps", "marts/return_contribution", "marts/market_concentration"]
BASE, END = date(2022, 11, 30), date(2022, 12, 30)

# cik, ticker, taxonomy, concept, as-of date, shares, close at BASE, close at END
COMPANIES = [
    (1, "AAA", "dei", "EntityCommonStockSharesOutstanding", date(2022, 11, 1), 100e6, 10.0, 20.0),
    (2, "BBB", "dei", "EntityCommonStockSharesOutstanding", date(2022, 11, 1), 50e6, 40.0, 30.0),
    # multi-class style: no dei count, the us-gaap balance-sheet total is the fallback
    (3, "CCC", "us-gaap", "CommonStockSharesOutstanding", date(2022, 9, 30), 200e6, 5.0, 6.0),
    # not members: a placeholder count (1,000 shares) and a count implying $25 trillion
    (4, "DDD", "dei", "EntityCommonStockSharesOutstanding", date(2022, 11, 1), 1000.0, 50.0, 50.0),
    (5, "EEE", "dei", "EntityCommonStockSharesOutstanding", date(2022, 11, 1), 5e9, 5000.0, 5000.0),
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for schema in ("raw", "staging", "marts"):
        c.execute(f"create schema {schema}")
    facts = pl.DataFrame(
        [(cik, tax, concept, "shares", None, as_of, shares, f"synthetic-{cik}", 2023, "Q3",
          "10-Q", as_of, None) for cik, _, tax, concept, as_of, shares, _, _ in COMPANIES],
        schema={"cik": pl.Int64, "taxonomy": pl.Utf8, "concept": pl.Utf8, "unit": pl.Utf8,
                "start": pl.Date, "end": pl.Date, "val": pl.Float64, "accn": pl.Utf8,
                "fy": pl.Int32, "fp": pl.Utf8, "form": pl.Utf8, "filed": pl.Date,
                "frame": pl.Utf8},
        orient="row",
    )
    prices = pl.DataFrame(
        [(t, day, px, px, 1, None, None, "synthetic")
         for _, t, *_, p0, p1 in COMPANIES for day, px in [(BASE, p0), (END, p1)]],
        schema=PRICE_SCHEMA, orient="row",
    )
    membership = pl.DataFrame(
        [(t, cik, t, date(2000, 1, 1), None) for cik, t, *_ in COMPANIES[:3]],
        schema={"ticker": pl.Utf8, "cik": pl.Int64, "name": pl.Utf8, "start_date": pl.Date,
                "end_date": pl.Date}, orient="row",
    )
    tables = {
        "sec_companyfacts": facts,
        "prices_daily": prices,
        "sp500_membership": membership,
        "sec_tickers": pl.DataFrame({"cik": [c[0] for c in COMPANIES],
                                     "ticker": [c[1] for c in COMPANIES],
                                     "title": [c[1] for c in COMPANIES]}),
        "mag7": pl.DataFrame({"ticker": ["AAA"], "cik": [1], "company": ["AAA"]}),
        # the basket holds the Mag7 member and BBB
        "ai_basket": pl.DataFrame({"ticker": ["AAA", "BBB"], "cik": [1, 2]}),
        "splits": pl.DataFrame(schema={"symbol": pl.Utf8, "date": pl.Date,
                                       "numerator": pl.Int64, "denominator": pl.Int64}),
    }
    for name, frame in tables.items():
        c.register("frame", frame.to_arrow())
        c.execute(f"create table raw.{name} as select * from frame")
        c.unregister("frame")
    for stem in MODELS:
        model = sqlmodels.load_model(REPO_ROOT / "sql" / f"{stem}.sql")
        sqlmodels.run_model(c, model, {"base_date": BASE, "coverage_floor": 0.9})
    return c


def test_return_contribution_hand_computed(con: duckdb.DuckDBPyConnection) -> None:
    # Caps (USD): AAA 100M x 10 = 1.0bn -> 100M x 20 = 2.0bn (+1.0bn);
    #             BBB  50M x 40 = 2.0bn ->  50M x 30 = 1.5bn (-0.5bn);
    #             CCC 200M x  5 = 1.0bn -> 200M x  6 = 1.2bn (+0.2bn). Index gain = +0.7bn.
    # Shares of the gain: AAA 1.0/0.7, BBB -0.5/0.7, CCC 0.2/0.7; mag7 = AAA; ai_basket =
    # AAA+BBB = 0.5/0.7; other (not Mag7) = BBB+CCC = -0.3/0.7; sp500 = 1.
    rows = {
        (r[0] or r[1]): r[2:]
        for r in con.execute(
            "select ticker, group_name, market_cap_start, market_cap_end, contribution, "
            "share_of_index_gain, members_covered from marts.return_contribution"
        ).fetchall()
    }
    expected = {
        "AAA": (1.0e9, 2.0e9, 1.0e9, 1.0 / 0.7, 1),
        "BBB": (2.0e9, 1.5e9, -0.5e9, -0.5 / 0.7, 1),
        "CCC": (1.0e9, 1.2e9, 0.2e9, 0.2 / 0.7, 1),
        "mag7": (1.0e9, 2.0e9, 1.0e9, 1.0 / 0.7, 1),
        "ai_basket": (3.0e9, 3.5e9, 0.5e9, 0.5 / 0.7, 2),
        "other": (3.0e9, 2.7e9, -0.3e9, -0.3 / 0.7, 2),
        "sp500": (4.0e9, 4.7e9, 0.7e9, 1.0, 3),
    }
    assert set(rows) == set(expected)
    for key, values in expected.items():
        assert rows[key] == pytest.approx(values, rel=1e-12), key


def test_concentration_share_hand_computed(con: duckdb.DuckDBPyConnection) -> None:
    # END: AAA 2.0bn of 4.7bn (all three members covered) = 0.425531...
    row = con.execute(
        "select members, members_covered, mag7_market_cap, sp500_market_cap, mag7_share "
        "from marts.market_concentration where date = ?", [END],
    ).fetchone()
    assert row == pytest.approx((3, 3, 2.0e9, 4.7e9, 2.0 / 4.7), rel=1e-12)


def test_us_gaap_fallback_where_no_dei_count(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "select shares, shares_concept from staging.market_caps where ticker = 'CCC' and date = ?",
        [END],
    ).fetchone()
    assert row == (200e6, "us-gaap:CommonStockSharesOutstanding")


@pytest.mark.parametrize(("ticker", "reason"), [("DDD", "placeholder"), ("EEE", "absurd_market_cap")])
def test_bad_share_counts_are_flagged_and_never_used(
    con: duckdb.DuckDBPyConnection, ticker: str, reason: str
) -> None:
    flagged = con.execute(
        "select reject_reason from staging.shares_outstanding where ticker = ?", [ticker]
    ).fetchall()
    assert flagged == [(reason,)]
    used = con.execute(
        "select count(*) from staging.market_caps where ticker = ? and market_cap is not null",
        [ticker],
    ).fetchone()
    assert used == (0,)
