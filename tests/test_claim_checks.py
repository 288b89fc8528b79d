"""marts.claim_checks on SYNTHETIC marts: the verdict follows the numbers across each rule's
thresholds, never the claim id.

Each test builds only the tables claim_checks reads, in a temporary DuckDB, with made-up
figures (labelled synthetic: no real company's numbers), runs the model with
`aiwatch.sqlmodels.run_model` (the coverage floor passed as the `coverage_floor` variable, as
`sqlmodels.model_variables` does from AIWATCH_COVERAGE_FLOOR), and reads the verdict back.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from aiwatch import sqlmodels
from aiwatch.settings import REPO_ROOT

MODEL = sqlmodels.load_model(REPO_ROOT / "sql" / "marts" / "claim_checks.sql")
# Settings.coverage_floor's default (AIWATCH_COVERAGE_FLOOR unset).
DEFAULT_FLOOR = 0.9

# SYNTHETIC claims, one per metric family; ids deliberately unlike data/claims.csv's.
CLAIMS = [
    # claim_id, cited, unit, metric, comparison, tolerance, computable
    ("x_share", 0.5, "share", "marts.mag7_earnings_share.mag7_share_of_growth_since_2022q4",
     "greater_than", None, True),
    ("x_capex", 0.4, "growth", "marts.capex_growth.growth[group_name=mag7;calendar_year=2024]",
     "about", 0.05, True),
    ("x_return", 0.75, "share",
     "marts.return_contribution.share_of_index_gain[group_name=ai_basket]", "about", 0.05, True),
    ("x_basket", 0.9, "share", "marts.depreciation_vs_capex.capex[basket=ai_basket;base_year=2022]",
     "about", 0.05, True),
    ("x_gdp", 0.01, "share", "marts.ai_capex_vs_gdp.capex_ttm_change_yoy[per=gdp_ttm_prior_year]",
     "greater_than", None, True),
    ("x_day", 300e9, "usd", "staging.market_caps.market_cap[ticker=ZZZ;change_on=2025-09-10]",
     "about", 30e9, True),
    ("x_private", 5e9, "usd", None, "about", 0.5e9, False),
]


def _build(
    path: Path,
    *,
    share_of_growth: float | None = 0.6,
    growth_basis: int = 500,
    capex_growth: float | None = 0.4,
    capex_reporting: int = 7,
    return_share: float | None = 0.75,
    return_covered: int = 500,
    basket_increase: float = 90.0,
    other_increase: float = 10.0,
    capex_change: float = 400.0,
    hyperscalers_ttm: int = 5,
    day_change: float | None = 300e9,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB holding SYNTHETIC versions of every table claim_checks reads."""
    con = duckdb.connect(str(path))
    for schema in ("raw", "staging", "marts"):
        con.execute(f"create schema {schema}")
    con.execute(
        "create table raw.claims (claim_id varchar, claim varchar, cited_figure double, "
        "cited_unit varchar, cited_by varchar, source varchar, metric varchar, "
        "comparison varchar, tolerance double, computable boolean, claim_period varchar, "
        "note varchar)"
    )
    con.executemany(
        "insert into raw.claims values (?, 'synthetic claim', ?, ?, 'synthetic', "
        "'https://example.invalid/', ?, ?, ?, ?, 'synthetic period', 'synthetic')",
        [list(c) for c in CLAIMS],
    )
    # Two quarters: the latest covers too few members, so the check must fall back to 2025Q3.
    con.execute(
        "create table marts.mag7_earnings_share as select * from (values "
        "('2025Q3', 500, 500, ?, 0.3, ?), ('2025Q4', 500, 2, 2, null, null)) as t("
        "calendar_quarter, members, members_reporting, growth_basis_companies, mag7_share, "
        "mag7_share_of_growth_since_2022q4)",
        [growth_basis, share_of_growth],
    )
    con.execute(
        "create table marts.capex_growth as select * from (values "
        "(2024, 'mag7', 7, ?, 140.0, 100.0, ?), (2025, 'mag7', 7, 1, 1.0, 1.0, 0.0)) as t("
        "calendar_year, group_name, companies, companies_reporting, capex, capex_prior, growth)",
        [capex_reporting, capex_growth],
    )
    con.execute(
        "create table marts.return_contribution as select * from (values "
        "('ai_basket', date '2022-11-30', date '2025-12-03', 30, 30, 1.0, ?), "
        "('sp500', date '2022-11-30', date '2025-12-03', 500, ?, 1.0, 1.0)) as t("
        "group_name, start_date, end_date, members, members_covered, contribution, "
        "share_of_index_gain)",
        [return_share, return_covered],
    )
    # Ten members at the end of 2025: cik 1 in the AI basket, 2..10 not.
    con.execute("create table raw.ai_basket as select 1::bigint as cik")
    con.execute(
        "create table staging.membership_quarterly as select '2025Q4' as calendar_quarter, "
        "cast(i as varchar) as member_key, i::bigint as cik, i = 1 as is_mag7 "
        "from range(1, 11) as r(i)"
    )
    con.execute(
        "create table marts.depreciation_vs_capex as "
        "select i::bigint as cik, 2022 as calendar_year, 100.0 as capex from range(1, 11) r(i) "
        "union all select 1, 2025, 100.0 + ? "
        "union all select i, 2025, 100.0 + ? / 9 from range(2, 11) r(i)",
        [basket_increase, other_increase],
    )
    con.execute(
        "create table marts.ai_capex_vs_gdp as select '2025Q3' as calendar_quarter, "
        "5 as hyperscalers, ? as companies_reporting_ttm, 0.02 as capex_ttm_share_of_gdp, "
        "0.1 as capex_change_share_of_gdp_change, ? as capex_ttm_change_yoy, "
        "30400.0 as gdp_ttm, 400.0 as gdp_ttm_change_yoy",
        [hyperscalers_ttm, capex_change],
    )
    con.execute(
        "create table staging.market_caps (ticker varchar, \"date\" date, market_cap double)"
    )
    con.execute("insert into staging.market_caps values ('ZZZ', date '2025-09-08', 600e9)")
    con.execute("insert into staging.market_caps values ('ZZZ', date '2025-09-09', 700e9)")
    if day_change is not None:
        con.execute(
            "insert into staging.market_caps values ('ZZZ', date '2025-09-10', 700e9 + ?)",
            [day_change],
        )
    return con


def _checks(
    tmp_path: Path, *, coverage_floor: float = DEFAULT_FLOOR, **numbers: object
) -> dict[str, dict[str, object]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    con = _build(tmp_path / "claims.duckdb", **numbers)  # type: ignore[arg-type]
    try:
        sqlmodels.run_model(con, MODEL, {"coverage_floor": coverage_floor})
        cursor = con.execute("select * from marts.claim_checks")
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    finally:
        con.close()


def test_every_claim_gets_a_verdict_figure_and_method(tmp_path: Path) -> None:
    checks = _checks(tmp_path)
    assert sorted(checks) == sorted(c[0] for c in CLAIMS)
    assert {k: v["verdict"] for k, v in checks.items()} == {
        "x_share": "supported",
        "x_capex": "supported",
        "x_return": "supported",
        "x_basket": "supported",
        "x_gdp": "supported",
        "x_day": "supported",
        "x_private": "not computable from public filings",
    }
    # The mag7 share falls back from 2025Q4 (2/500 members) to 2025Q3, the latest covered.
    assert checks["x_share"]["as_of"] == "2025Q3"
    assert checks["x_share"]["coverage"].startswith("500/500")
    # basket: 90 of the 100 capex increase since 2022; gdp: 400 / (30400 - 400)
    assert checks["x_basket"]["recomputed_figure"] == pytest.approx(0.9)
    assert checks["x_gdp"]["recomputed_figure"] == pytest.approx(400 / 30000)
    assert checks["x_day"]["recomputed_figure"] == pytest.approx(300e9)
    assert checks["x_day"]["as_of"] == "2025-09-10 vs 2025-09-09"
    for row in checks.values():
        assert row["method"] and row["rule"]
    assert "marts.capex_growth" in checks["x_capex"]["method"]


@pytest.mark.parametrize(
    ("growth", "verdict"),
    [
        (0.40, "supported"),
        (0.449, "supported"),  # |0.449 - 0.4| <= 0.05
        (0.451, "partly"),  # just past the tolerance
        (0.499, "partly"),  # within twice the tolerance
        (0.501, "contradicted"),
        (0.299, "contradicted"),
        (None, "insufficient data"),
    ],
)
def test_about_rule_flips_at_tolerance(
    tmp_path: Path, growth: float | None, verdict: str
) -> None:
    assert _checks(tmp_path, capex_growth=growth)["x_capex"]["verdict"] == verdict


@pytest.mark.parametrize(
    ("share", "verdict"),
    [
        (0.51, "supported"),
        (0.49, "partly"),  # within 10% of the cited 0.5 (no tolerance given)
        (0.451, "partly"),
        (0.449, "contradicted"),
        (1.4, "supported"),  # above 1 when the other members' earnings fell: still above half
    ],
)
def test_greater_than_rule_flips_at_cited_figure(
    tmp_path: Path, share: float, verdict: str
) -> None:
    assert _checks(tmp_path, share_of_growth=share)["x_share"]["verdict"] == verdict


@pytest.mark.parametrize(
    ("numbers", "claim"),
    [
        ({"capex_reporting": 6}, "x_capex"),  # 6/7 < 90%
        ({"growth_basis": 449}, "x_share"),  # 449/500 < 90%
        ({"return_covered": 449}, "x_return"),
        ({"hyperscalers_ttm": 4}, "x_gdp"),
        ({"day_change": None}, "x_day"),  # no price on the day
    ],
)
def test_coverage_below_the_floor_is_insufficient_data(
    tmp_path: Path, numbers: dict[str, object], claim: str
) -> None:
    assert _checks(tmp_path)[claim]["verdict"] == "supported"
    assert _checks(tmp_path / "low", **numbers)[claim]["verdict"] == "insufficient data"


def test_coverage_at_the_floor_counts(tmp_path: Path) -> None:
    assert _checks(tmp_path, growth_basis=450)["x_share"]["verdict"] == "supported"


def test_the_floor_is_the_configured_one_not_a_literal(tmp_path: Path) -> None:
    """The same SYNTHETIC numbers (6 of 7 mag7 companies report capex, 86%) are
    'insufficient data' under the default 90% floor and judged under an 80% floor; under a 99%
    floor 494/500 members (98.8%), plenty at 90%, are too few for the earnings share."""
    assert _checks(tmp_path / "a", capex_reporting=6)["x_capex"]["verdict"] == "insufficient data"
    lower = _checks(tmp_path / "b", capex_reporting=6, coverage_floor=0.8)["x_capex"]
    assert lower["verdict"] == "supported"
    assert lower["rule"].endswith("insufficient data below 80% coverage")
    stricter = _checks(tmp_path / "c", growth_basis=494, coverage_floor=0.99)["x_share"]
    assert stricter["verdict"] == "insufficient data"
    assert stricter["rule"].endswith("insufficient data below 99% coverage")


def test_model_reads_the_coverage_floor_variable() -> None:
    # run_model refuses to run without it, so an unset floor cannot read as NULL
    assert "coverage_floor" in MODEL.variables


@pytest.mark.parametrize(
    ("basket", "other", "verdict"),
    [(90.0, 10.0, "supported"), (82.0, 18.0, "partly"), (50.0, 50.0, "contradicted")],
)
def test_basket_share_of_capex_growth_follows_the_numbers(
    tmp_path: Path, basket: float, other: float, verdict: str
) -> None:
    row = _checks(tmp_path, basket_increase=basket, other_increase=other)["x_basket"]
    assert row["recomputed_figure"] == pytest.approx(basket / (basket + other))
    assert row["verdict"] == verdict


@pytest.mark.parametrize(
    ("change", "verdict"), [(301.0, "supported"), (290.0, "partly"), (250.0, "contradicted")]
)
def test_gdp_contribution_flips_at_one_percent(
    tmp_path: Path, change: float, verdict: str
) -> None:
    # prior-year GDP is 30,000: 300 is exactly 1%
    assert _checks(tmp_path, capex_change=change)["x_gdp"]["verdict"] == verdict


@pytest.mark.parametrize(
    ("change", "verdict"),
    [(330e9, "supported"), (250e9, "partly"), (200e9, "contradicted"), (-300e9, "contradicted")],
)
def test_one_day_move_flips_with_the_prices(tmp_path: Path, change: float, verdict: str) -> None:
    assert _checks(tmp_path, day_change=change)["x_day"]["verdict"] == verdict


def test_claims_csv_metrics_name_real_mart_columns() -> None:
    """Every computable claim in data/claims.csv names a table and column of a real model."""
    import polars as pl

    claims = pl.read_csv(REPO_ROOT / "data" / "claims.csv")
    models = {m.table: m for m in sqlmodels.discover(REPO_ROOT / "sql")}
    for row in claims.filter(pl.col("computable")).iter_rows(named=True):
        base = row["metric"].split("[")[0]
        table, _, column = base.rpartition(".")
        assert table in models, row["claim_id"]
        assert column in models[table].columns, (row["claim_id"], column)
        assert table in MODEL.deps, (row["claim_id"], table)
