"""The HTML report from a small SYNTHETIC database: every chart present, self-contained, and it
renders in headless Chromium without script errors.

All figures below are made up (SYNTHETIC); they exist only so every chart has something to draw.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from aiwatch.report import (
    CHARTS,
    HEADLINE_QUERIES,
    build_report,
    headline_numbers,
    headlines_for,
)

CHROMIUM = Path("/usr/bin/chromium")
CHART_NAMES = (
    "mag7_earnings_share", "capex_by_group", "market_concentration", "return_contribution",
    "ai_capex_vs_gdp", "deal_graph",
)


def synthetic_db(path: Path) -> duckdb.DuckDBPyConnection:
    """SYNTHETIC versions of the tables the report reads (only the columns it reads)."""
    con = duckdb.connect(str(path))
    con.execute("create schema raw; create schema marts")
    con.execute(
        "create table marts.mag7_earnings_share as select "
        "'202' || (2 + i // 4) || 'Q' || (i % 4 + 1) as calendar_quarter, 500 as members, "
        "495 as members_reporting, 7 as mag7_members, 7 as mag7_members_reporting, "
        "490 as growth_basis_companies, 0.2 + i * 0.01 as mag7_share, "
        "case when i > 3 then 0.5 + i * 0.02 end as mag7_share_of_growth_since_2022q4 "
        "from range(12) r(i)"
    )
    con.execute(
        "create table marts.capex_growth as select 2020 + i as calendar_year, g as group_name, "
        "case g when 'mag7' then 7 else 493 end as companies, "
        "case g when 'mag7' then 7 else 480 end as companies_reporting, "
        "(100 + 30 * i) * 1e9 as capex, (90 + 25 * i) * 1e9 as capex_prior, 0.1 * i as growth "
        "from range(5) r(i), (values ('mag7'), ('other'), ('sp500')) t(g)"
    )
    con.execute(
        "create table marts.market_concentration as select date '2023-01-02' + i::integer as \"date\", "
        "500 as members, 480 as members_covered, 7 as mag7_members, 7 as mag7_members_covered, "
        "0.25 + i * 0.001 as mag7_share from range(100) r(i)"
    )
    con.execute(
        "create table marts.return_contribution as select * from (values "
        "(1, 'AAA', 'company', 1, 1, 2e12, null), (2, 'BBB', 'company', 1, 1, -1e11, null), "
        "(null, null, 'ai_basket', 30, 30, 3e12, 0.7), (null, null, 'mag7', 7, 7, 2.5e12, 0.6), "
        "(null, null, 'sp500', 500, 470, 4e12, 1.0)) as t(cik, ticker, group_name, members, "
        "members_covered, contribution, share_of_index_gain)"
    )
    con.execute(
        "alter table marts.return_contribution add column start_date date default '2022-11-30'"
    )
    con.execute(
        "alter table marts.return_contribution add column end_date date default '2025-12-01'"
    )
    con.execute(
        "create table marts.ai_capex_vs_gdp as select "
        "'202' || (2 + i // 4) || 'Q' || (i % 4 + 1) as calendar_quarter, 5 as hyperscalers, "
        "5 as companies_reporting_ttm, 0.005 + i * 0.0005 as capex_ttm_share_of_gdp "
        "from range(12) r(i)"
    )
    con.execute(
        "create table raw.deals as select * from (values "
        "('Acme', 'Bolt', 10e9), ('Bolt', 'Acme', 4e9), ('Bolt', 'Cog', null), "
        "('Cog', 'Dyn', 2e9)) as t(from_company, to_company, amount_usd)"
    )
    con.execute(
        "create table marts.deal_cycles as select ['Acme', 'Bolt'] as companies"
    )
    con.execute(
        "create table marts.claim_checks as select 'x1' as claim_id, 'SYNTHETIC claim' as claim, "
        "'synthetic' as cited_by, 'https://example.invalid/' as source, 0.5 as cited_figure, "
        "'share' as cited_unit, 0.6 as recomputed_figure, '2025Q3' as as_of, "
        "'500/500 members' as coverage, 'supported' as verdict, 'by a synthetic rule' as rule, "
        "'Recomputed synthetically' as method"
    )
    return con


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("report")
    con = synthetic_db(folder / "synthetic.duckdb")
    con.close()
    ro = duckdb.connect(str(folder / "synthetic.duckdb"), read_only=True)
    try:
        result = build_report(ro, folder / "out")
    finally:
        ro.close()
    return folder, result


def test_every_chart_is_drawn_written_and_embedded(report: tuple[Path, object]) -> None:
    folder, result = report
    assert len(CHARTS) == len(CHART_NAMES)
    assert [c.name for c in result.charts] == list(CHART_NAMES)  # type: ignore[attr-defined]
    page = (folder / "out" / "report.html").read_text(encoding="utf-8")
    for chart in result.charts:  # type: ignore[attr-defined]
        assert chart.has_data, chart.name
        png = folder / "out" / chart.file_name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'id="{chart.name}"' in page
        assert chart.data_uri() in page
        assert chart.coverage in page or chart.coverage.replace("&", "&amp;") in page
    assert page.count("data:image/png;base64,") == len(CHART_NAMES)
    assert "SYNTHETIC claim" in page and "supported" in page
    assert result.claims == 1  # type: ignore[attr-defined]
    assert result.headlines["mag7_earnings_share"] == pytest.approx(0.31)  # type: ignore[attr-defined]


def test_page_is_self_contained(report: tuple[Path, object]) -> None:
    folder, _ = report
    page = (folder / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    # nothing loaded or linked from outside the file
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page


def test_missing_marts_give_no_data_panels(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    try:
        result = build_report(con, tmp_path / "out")
    finally:
        con.close()
    assert [c.has_data for c in result.charts] == [False] * len(CHART_NAMES)
    page = result.html_path.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(CHART_NAMES)
    assert "marts.claim_checks is missing" in page
    assert result.headlines == {}


def test_null_shares_below_coverage_are_not_drawn(tmp_path: Path) -> None:
    con = synthetic_db(tmp_path / "low.duckdb")
    con.execute("update marts.mag7_earnings_share set members_reporting = 8, "
                "growth_basis_companies = 8")
    con.execute("update marts.market_concentration set mag7_share = null")
    try:
        result = build_report(con, tmp_path / "out")
    finally:
        con.close()
    drawn = {c.name: c.has_data for c in result.charts}
    assert drawn["mag7_earnings_share"] is False
    assert drawn["market_concentration"] is False
    assert "mag7_earnings_share" not in result.headlines
    assert "8/500 members" in next(c for c in result.charts if c.name == "mag7_earnings_share").coverage


def test_headlines_follow_the_coverage_floor_passed_in(tmp_path: Path) -> None:
    """SYNTHETIC coverage: earnings 495/500 members (99%), growth basis 490/500 (98%), 'other'
    capex 480/493 (97.4%), mag7 capex 7/7. The floor decides which headlines exist."""
    con = synthetic_db(tmp_path / "floor.duckdb")
    try:
        default = headline_numbers(con)
        assert default == headline_numbers(con, 0.9)
        assert {"mag7_earnings_share", "mag7_share_of_earnings_growth_since_2022q4",
                "mag7_capex_growth", "other_capex_growth"} <= set(default)
        stricter = headline_numbers(con, 0.985)
        assert stricter["mag7_earnings_share"] == pytest.approx(0.31)  # 2024Q4: 0.2 + 11 * 0.01
        assert "mag7_share_of_earnings_growth_since_2022q4" not in stricter
        assert "other_capex_growth" not in stricter
        assert stricter["mag7_capex_growth"] == pytest.approx(0.4)  # 7/7 clears any floor
        # the marts that apply the floor themselves are read as they are
        assert stricter["mag7_market_cap_share"] == default["mag7_market_cap_share"]
    finally:
        con.close()


def test_report_charts_use_the_floor_passed_in(tmp_path: Path) -> None:
    con = synthetic_db(tmp_path / "floor.duckdb")
    try:
        result = build_report(con, tmp_path / "out", coverage_floor=0.995)
    finally:
        con.close()
    earnings = next(c for c in result.charts if c.name == "mag7_earnings_share")
    assert earnings.has_data is False  # 495/500 members is below 99.5%
    assert "99.5% of members report" in earnings.method
    assert "mag7_earnings_share" not in result.headlines


def test_headlines_are_keyed_by_the_mart_their_query_reads(tmp_path: Path) -> None:
    """Dagster puts each headline on the asset of `HeadlineQuery.table`: it must be the one
    table the query reads, or the UI would plot a number under the wrong mart."""
    import sqlglot
    from sqlglot import exp

    from aiwatch import sqlmodels
    from aiwatch.settings import REPO_ROOT

    models = {m.table: m for m in sqlmodels.discover(REPO_ROOT / "sql")}
    for label, headline in HEADLINE_QUERIES.items():
        tables = {
            f"{t.db}.{t.name}"
            for t in sqlglot.parse_one(headline.query, dialect="duckdb").find_all(exp.Table)
        }
        assert tables == {headline.table}, label
        # a column the mart lacks would only log a warning and drop the headline: catch it here
        columns = {
            c.name for c in sqlglot.parse_one(headline.query, dialect="duckdb").find_all(exp.Column)
        }
        assert columns <= set(models[headline.table].columns), (label, columns)
        assert label in headlines_for(headline.table)
        assert "0.9" not in headline.query, label  # the floor is bound, not written in
    con = synthetic_db(tmp_path / "by_table.duckdb")
    try:
        capex = headline_numbers(con, table="marts.capex_growth")
    finally:
        con.close()
    assert set(capex) == {"mag7_capex_growth", "other_capex_growth"}
    assert headlines_for("marts.deal_cycles") == []


def _chromium(args: list[str], user_data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={user_data}", *args,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium",
)
def test_report_renders_in_headless_chromium(report: tuple[Path, object]) -> None:
    folder, _ = report
    url = (folder / "out" / "report.html").as_uri()
    screenshot = folder / "screenshot.png"
    shot = _chromium(
        [f"--screenshot={screenshot}", "--window-size=1280,4000", "--enable-logging=stderr",
         "--v=0", url],
        folder / "chromium-profile-1",
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a blank page is a few KB
    # Script errors and failed console messages are logged as CONSOLE lines / "Uncaught".
    problems = [
        line for line in shot.stderr.splitlines()
        if "Uncaught" in line or ("CONSOLE" in line and "error" in line.lower())
    ]
    assert problems == []
    dom = _chromium(["--dump-dom", url], folder / "chromium-profile-2")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for name in CHART_NAMES:
        assert f'id="{name}"' in dom.stdout
    assert dom.stdout.count("<img") == len(CHART_NAMES)
    assert "SYNTHETIC claim" in dom.stdout
    shutil.rmtree(folder / "chromium-profile-1", ignore_errors=True)
