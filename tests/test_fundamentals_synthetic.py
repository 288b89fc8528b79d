"""The fundamentals models on the SYNTHETIC universe (tests/synthetic_universe.py).

Every expected figure below is worked out by hand from the formulas in the generator's
docstring (millions of USD): net income of fiscal year Y, quarter q = 100*(Y-2020) + 10*q,
capex = 40*(Y-2020) + q; the Mag7 are 10x. Nothing is recomputed with the SQL's logic.
"""

from __future__ import annotations

import duckdb
import pytest
import synthetic_universe as su

M = 1_000_000


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    companies = su.universe_companies()
    connection = duckdb.connect()
    su.build_warehouse(
        connection, su.payloads(companies), su.mag7_rows(companies), su.membership_rows(companies)
    )
    return connection


def quarter(con, ticker: str, fiscal_year: int, fiscal_period: str) -> dict:
    cur = con.execute(
        "select * from marts.fundamentals_quarterly "
        "where ticker = ? and fiscal_year = ? and fiscal_period = ?",
        [ticker, fiscal_year, fiscal_period],
    )
    rows = cur.fetchall()
    assert len(rows) <= 1
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True)) if rows else {}


def one(con, sql: str, params: list | None = None) -> dict:
    cur = con.execute(sql, params or [])
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


# (ticker, fiscal_year, fiscal_period, period_start, period_end, calendar_quarter) by hand:
# the calendar quarter holds the period's midpoint.
@pytest.mark.parametrize(
    ("ticker", "fiscal_year", "fiscal_period", "start", "end", "calendar_quarter"),
    [
        ("DECM", 2023, "Q4", "2023-10-01", "2023-12-31", "2023Q4"),
        ("SEPT", 2024, "Q1", "2023-10-01", "2023-12-31", "2023Q4"),  # Sep year-end
        ("SEPT", 2023, "Q4", "2023-07-01", "2023-09-30", "2023Q3"),
        ("JANF", 2024, "Q4", "2023-11-01", "2024-01-31", "2023Q4"),  # Jan year-end
        ("JANF", 2024, "Q1", "2023-02-01", "2023-04-30", "2023Q1"),
        ("JUNF", 2024, "Q2", "2023-10-01", "2023-12-31", "2023Q4"),  # Jun year-end
    ],
)
def test_fiscal_quarters_and_calendar_quarters(
    con, ticker, fiscal_year, fiscal_period, start, end, calendar_quarter
):
    row = quarter(con, ticker, fiscal_year, fiscal_period)
    assert str(row["period_start"]) == start
    assert str(row["period_end"]) == end
    assert row["calendar_quarter"] == calendar_quarter


def test_fiscal_year_label_is_the_current_filings_not_a_comparatives(con):
    # JANF's year ending 2023-01-31 is repeated with fy=2024 in the FY2024 10-K; its label is 2023
    row = one(con, "select * from marts.fundamentals_annual where ticker = 'JANF' "
                   "and period_end = date '2023-01-31'")
    assert row["fiscal_year"] == 2023
    assert row["net_income"] == 1300 * M  # 400*3 + 100


def test_q4_is_full_year_minus_nine_months(con):
    row = quarter(con, "SEPT", 2023, "Q4")
    assert row["net_income"] == 340 * M and row["net_income_method"] == "derived"
    assert row["capex"] == 124 * M and row["capex_method"] == "derived"
    q1 = quarter(con, "SEPT", 2023, "Q1")
    assert q1["capex_method"] == "reported" and q1["capex"] == 121 * M


def test_restatement_latest_filed_wins(con):
    # FY2023 10-K restates FY2022 net income 900 -> 905; Q4 2022 = 905 - 660 (9M, original)
    assert one(con, "select net_income from marts.fundamentals_annual "
                    "where ticker = 'DECM' and fiscal_year = 2022")["net_income"] == 905 * M
    q4 = quarter(con, "DECM", 2022, "Q4")
    assert q4["net_income"] == 245 * M
    assert q4["net_income_ttm"] == 905 * M


def test_amendment_10k_a_wins(con):
    # 10-K/A raises FY2023 capex 490 -> 497; Q4 = 497 - 366
    annual = one(con, "select capex, capex_accn from marts.fundamentals_annual "
                      "where ticker = 'AMND' and fiscal_year = 2023")
    assert annual["capex"] == 497 * M
    assert quarter(con, "AMND", 2023, "Q4")["capex"] == 131 * M


def test_concept_switch_is_followed_and_recorded(con):
    fy2021 = one(con, "select revenue, revenue_concept from marts.fundamentals_annual "
                      "where ticker = 'DECM' and fiscal_year = 2021")
    fy2023 = one(con, "select revenue, revenue_concept from marts.fundamentals_annual "
                      "where ticker = 'DECM' and fiscal_year = 2023")
    assert fy2021 == {"revenue": 5000 * M,
                      "revenue_concept": "RevenueFromContractWithCustomerExcludingAssessedTax"}
    assert fy2023 == {"revenue": 13000 * M, "revenue_concept": "Revenues"}
    assert quarter(con, "DECM", 2023, "Q4")["revenue_ttm"] == 13000 * M


def test_missing_q1_leaves_q2_underivable_and_ttm_null(con):
    assert quarter(con, "MISS", 2023, "Q1") == {}
    q2 = quarter(con, "MISS", 2023, "Q2")
    assert q2["net_income"] == 320 * M  # reported three-month fact
    assert q2["capex"] is None  # H1 - Q1 with no Q1: missing, never H1 itself
    q4 = quarter(con, "MISS", 2023, "Q4")
    assert q4["capex"] == 124 * M
    assert q4["net_income_ttm"] is None and q4["capex_ttm"] is None


def test_membership_point_in_time(con):
    members = dict(con.execute(
        "select calendar_quarter, members from marts.mag7_earnings_share "
        "where calendar_quarter between '2023Q1' and '2023Q3'").fetchall())
    # 7 Mag7 (Alphabet once) + DECM SEPT JANF JUNF AMND MISS LEAV NOCIK; JOIN from Q2; LEAV gone Q3
    assert members == {"2023Q1": 15, "2023Q2": 16, "2023Q3": 15}


def test_mag7_earnings_share_2023q4(con):
    row = one(con, "select * from marts.mag7_earnings_share where calendar_quarter = '2023Q4'")
    # Mag7: 7 x 10 x 1300. Others' TTM at 2023Q4: DECM 1300, SEPT 320+330+340+410 = 1400,
    # JANF FY2024 1700, JUNF 330+340+410+420 = 1500, AMND 1300, JOIN 1300; MISS (Q1 missing)
    # and NOCIK (no CIK) do not report.
    assert row["members"] == 15 and row["members_reporting"] == 13
    assert row["mag7_members"] == 7 and row["mag7_members_reporting"] == 7
    assert row["mag7_net_income_ttm"] == 91000 * M
    assert row["other_net_income_ttm"] == 8500 * M
    assert row["sp500_net_income_ttm"] == 99500 * M
    assert row["mag7_share"] == pytest.approx(91000 / 99500)
    # growth since 2022Q4, same companies: Mag7 91000 - 63000; DECM 1300 - 905, SEPT 1400 - 1000,
    # JANF 1700 - 1300, JUNF 1500 - 1100, AMND and JOIN 1300 - 900
    assert row["growth_basis_companies"] == 13
    assert row["mag7_net_income_ttm_growth_since_2022q4"] == 28000 * M
    assert row["sp500_net_income_ttm_growth_since_2022q4"] == 30395 * M
    assert row["mag7_share_of_growth_since_2022q4"] == pytest.approx(28000 / 30395)


def test_mag7_share_null_when_a_mag7_member_is_missing(con):
    # before FY2021 data there is no TTM for anyone: no share, not 0
    row = one(con, "select * from marts.mag7_earnings_share where calendar_quarter = '2021Q3'")
    assert row["mag7_members_reporting"] == 0 and row["mag7_share"] is None


def test_capex_growth_2023(con):
    rows = {r[0]: r[1:] for r in con.execute(
        "select group_name, companies, companies_reporting, capex, capex_prior "
        "from marts.capex_growth where calendar_year = 2023").fetchall()}
    # calendar-year capex = four quarters by midpoint. DECM 490/330, SEPT 122+123+124+161 = 530 /
    # 82+83+84+121 = 370, JANF FY2024 650 / FY2023 490, JUNF 123+124+161+162 = 570 /
    # 83+84+121+122 = 410, AMND 497/330, JOIN 490/330; MISS lacks Q1-Q2 2023, NOCIK no CIK.
    assert rows["other"] == (8, 6, 3227 * M, 2260 * M)
    assert rows["mag7"] == (7, 7, 34300 * M, 23100 * M)
    assert rows["sp500"] == (15, 13, 37527 * M, 25360 * M)
    growth = one(con, "select growth from marts.capex_growth "
                      "where calendar_year = 2023 and group_name = 'other'")["growth"]
    assert growth == pytest.approx(3227 / 2260 - 1)


@pytest.mark.parametrize("audit", [
    "fundamentals_quarterly__unique_key", "fundamentals_annual__unique_key",
    "mag7_earnings_share__unique_key", "capex_growth__unique_key",
    "capex_growth_ttm__unique_key", "mag7_earnings_share__share_in_unit_interval",
    "fundamentals_quarterly__implausible_derived",
])
def test_audits_pass(con, audit):
    assert su.run_audit(con, audit) == []


def test_stale_concept_audit_flags_a_metric_left_behind(con):
    # MISS files nothing after FY2023, so nothing is stale; add a newer 10-Q filing row for it
    con.execute("insert into raw.sec_filings (cik, accn, form, filed) "
                "values (9000006, 'synthetic', '10-Q', date '2024-12-31')")
    flagged = {(r[0], r[2]) for r in su.run_audit(con, "fundamentals_quarterly__stale_concept")}
    con.execute("delete from raw.sec_filings where accn = 'synthetic'")
    assert (9000006, "capex") in flagged


def test_generate_scales(tmp_path):
    payloads = su.generate(3, seed=1, extra_concepts=2)
    assert len(payloads) == 3
    assert all(b"SYNTHETIC" in body for body in payloads.values())
