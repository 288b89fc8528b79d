"""The report a person opens: one self-contained HTML page with PNG charts and the claim table.

`build_report(con, out_dir, coverage_floor=...)` reads the marts from an open DuckDB connection
(the CLI and the Dagster asset pass the PUBLISHED database, read-only, and
`Settings.coverage_floor`) and writes `report.html` plus one PNG per chart next to it. The page embeds every PNG as a base64 data URI and uses no script and no
external URL, so it opens offline, from an e-mail attachment, or years later.

Charts are drawn with matplotlib's object API on the Agg canvas (no pyplot global state, no
display needed). A mart that is missing, empty, or whose figure is NULL because coverage is
below the floor gets a "no data" panel that says what coverage there is, never a failure and
never a chart of a partial sum dressed up as the index. The floor is AIWATCH_COVERAGE_FLOOR
(`Settings.coverage_floor`), the one the marts and marts.claim_checks read as
`getvariable('coverage_floor')`: one floor, passed in, never a constant here.

`HEADLINE_QUERIES` is the one list of headline numbers: the report shows them, and the Dagster
asset of the mart each query reads puts the newest value on its materialization
(`headline_numbers(con, floor, table=...)`), so the UI plots their history.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
# Small enough to keep the page light (each PNG ~30-80 KB), sharp enough to read on a laptop.
_DPI = 100
_SIZE = (9.0, 4.2)
_COLORS = {"mag7": "#1f77b4", "other": "#ff7f0e", "sp500": "#7f7f7f", "ai_basket": "#2ca02c"}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Chart:
    """One chart: its PNG, what it shows, how it was computed and how much it covers."""

    name: str
    title: str
    method: str
    coverage: str
    png: bytes
    has_data: bool

    @property
    def file_name(self) -> str:
        return f"{self.name}.png"

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class ReportResult:
    """What `build_report` wrote, and the headline numbers (only those that are not NULL)."""

    html_path: Path
    charts: list[Chart]
    headlines: dict[str, float] = field(default_factory=dict)
    claims: int = 0


# ---------------------------------------------------------------------------------------------
# Reading


def _frame(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object] | None = None
) -> pl.DataFrame | None:
    """The query's rows (`params` bound to its `$name` placeholders), or None when a table or
    column it reads does not exist (a mart not built yet, or built by an older version): that
    chart becomes a "no data" panel."""
    complete = getattr(con, "complete", None)
    if complete is not None:  # DuckDB 2.0: a caller's half-read result blocks con.sql()
        complete()
    try:
        return con.sql(query, params=params).pl()
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        log.warning("report: %s", str(exc).splitlines()[0])
        return None


def _money(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 1e12:
        return f"${value / 1e12:,.2f}tn"
    return f"${value / 1e9:,.1f}bn"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _floor_pct(coverage_floor: float) -> str:
    """The floor as a person reads it: 0.9 -> '90%', 0.875 -> '87.5%'."""
    return f"{coverage_floor * 100:g}%"


# ---------------------------------------------------------------------------------------------
# Drawing


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    return buffer.getvalue()


def _no_data(title: str, why: str) -> bytes:
    """A panel that says plainly there is nothing to plot, and why."""
    fig = Figure(figsize=(_SIZE[0], 2.2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=12)
    ax.text(0.5, 0.5, f"no data ({why})", ha="center", va="center", fontsize=11, wrap=True,
            color="#555555", transform=ax.transAxes,
            bbox={"boxstyle": "round", "facecolor": "#f3f3f3", "edgecolor": "#cccccc"})
    return _png(fig)


def _not_built(key: str, title: str, method: str, table: str) -> Chart:
    return Chart(key, title, method, "mart not built",
                 _no_data(title, f"{table} is missing or empty"), False)


def _nothing_to_draw(key: str, title: str, method: str, coverage: str, why: str) -> Chart:
    """The mart exists, but nothing in it clears the coverage floor (or it has no rows)."""
    return Chart(key, title, method, coverage, _no_data(title, why), False)


def _drawn(key: str, title: str, method: str, coverage: str, fig: Figure) -> Chart:
    return Chart(key, title, method, coverage, _png(fig), True)


def _percent_axis(ax: object) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0))  # type: ignore[attr-defined]


def _money_axis(ax: object) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _money(v)))  # type: ignore[attr-defined]


def chart_earnings_share(con: duckdb.DuckDBPyConnection, coverage_floor: float) -> Chart:
    title = "Mag7 share of S&P 500 earnings (TTM net income)"
    method = (
        "marts.mag7_earnings_share: the Mag7's trailing-twelve-month net income (10-K/10-Q, "
        "attributable to the parent) over that of all S&P 500 members on the quarter's last "
        "day; dashed: the Mag7's share of the index's TTM earnings growth since 2022Q4. "
        "Not drawn when a Mag7 member lacks a TTM figure or fewer than "
        f"{_floor_pct(coverage_floor)} of members report."
    )
    df = _frame(con, "select * from marts.mag7_earnings_share order by calendar_quarter")
    if df is None or df.is_empty():
        return _not_built("mag7_earnings_share", title, method, "marts.mag7_earnings_share")
    latest = df.filter(pl.col("members_reporting") > 0).tail(1)
    coverage = (
        "no quarter with a reporting member" if latest.is_empty() else
        f"latest quarter {latest['calendar_quarter'][0]}: {latest['members_reporting'][0]}/"
        f"{latest['members'][0]} members with TTM net income, Mag7 "
        f"{latest['mag7_members_reporting'][0]}/{latest['mag7_members'][0]}"
    )
    # The mart leaves the index-wide coverage floor to its readers: a share of the earnings of
    # the few members on file is not a share of the S&P 500's.
    df = df.with_columns(
        pl.when(pl.col("members_reporting") >= coverage_floor * pl.col("members"))
        .then(pl.col("mag7_share")).alias("mag7_share"),
        pl.when(pl.col("growth_basis_companies") >= coverage_floor * pl.col("members"))
        .then(pl.col("mag7_share_of_growth_since_2022q4"))
        .alias("mag7_share_of_growth_since_2022q4"),
    )
    shown = df.filter(
        pl.col("mag7_share").is_not_null()
        | pl.col("mag7_share_of_growth_since_2022q4").is_not_null()
    )
    if shown.is_empty():
        return _nothing_to_draw(
            "mag7_earnings_share", title, method, coverage,
            f"no quarter with {_floor_pct(coverage_floor)} of members reporting; {coverage}")
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    quarters = df["calendar_quarter"].to_list()
    x = list(range(len(quarters)))
    ax.plot(x, df["mag7_share"].to_list(), marker="o", color=_COLORS["mag7"],
            label="share of S&P 500 TTM earnings")
    ax.plot(x, df["mag7_share_of_growth_since_2022q4"].to_list(), linestyle="--",
            color=_COLORS["ai_basket"], label="share of TTM earnings growth since 2022Q4")
    step = max(1, len(quarters) // 12)
    ax.set_xticks(x[::step], quarters[::step], rotation=45, ha="right")
    _percent_axis(ax)
    ax.set_title(title, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return _drawn("mag7_earnings_share", title, method, coverage, fig)


def chart_capex(con: duckdb.DuckDBPyConnection, coverage_floor: float) -> Chart:
    title = "Capital expenditure by group and its growth"
    method = (
        "marts.capex_growth: each company's calendar-year cash capex (sum of its four fiscal "
        "quarters, 10-K/10-Q), summed over the group's S&P 500 members on the year's last day "
        "that report both this and the prior year (same companies: growth is like for like). "
        "Bars: capex; lines: growth over the prior year."
    )
    df = _frame(con, "select * from marts.capex_growth where group_name in ('mag7', 'other') "
                     "order by calendar_year, group_name")
    if df is None or df.is_empty():
        return _not_built("capex_by_group", title, method, "marts.capex_growth")
    last_year = df["calendar_year"].max()
    parts = [
        f"{r['group_name']} {r['companies_reporting']}/{r['companies']}"
        for r in df.filter(pl.col("calendar_year") == last_year).iter_rows(named=True)
    ]
    coverage = f"{last_year}: members reporting both years: " + ", ".join(parts)
    shown = df.filter(pl.col("capex").is_not_null())
    if shown.is_empty():
        return _nothing_to_draw(
            "capex_by_group", title, method, coverage,
            f"no group has capex for two consecutive years; {coverage}")
    years = sorted(shown["calendar_year"].unique().to_list())
    fig = Figure(figsize=(_SIZE[0], 5.2))
    ax, ax_growth = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    width = 0.4
    for offset, group in ((-width / 2, "mag7"), (width / 2, "other")):
        g = shown.filter(pl.col("group_name") == group)
        values = dict(zip(g["calendar_year"].to_list(), g["capex"].to_list(), strict=True))
        growth = dict(zip(g["calendar_year"].to_list(), g["growth"].to_list(), strict=True))
        reporting = dict(zip(g["calendar_year"].to_list(), g["companies_reporting"].to_list(),
                             strict=True))
        members = dict(zip(g["calendar_year"].to_list(), g["companies"].to_list(), strict=True))
        bars = ax.bar([y + offset for y in years], [values.get(y) or 0 for y in years], width,
                      label=f"{group} (bar label: members reporting)", color=_COLORS[group])
        # Each bar sums only the members reporting both years: say how many, on the bar.
        ax.bar_label(bars, labels=[
            f"{reporting[y]}/{members[y]}" if y in reporting else "" for y in years
        ], fontsize=8, color="#444444")
        ax_growth.plot(years, [growth.get(y) for y in years], marker="o", color=_COLORS[group],
                       label=f"{group} growth")
    _money_axis(ax)
    _percent_axis(ax_growth)
    ax.set_title(title, loc="left")
    ax.set_ylim(top=float(shown["capex"].max() or 1.0) * 1.35)  # room for the legend
    ax.legend(loc="upper left", ncol=2, fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    ax_growth.axhline(0, color="#999999", linewidth=0.8)
    ax_growth.grid(alpha=0.3)
    ax_growth.set_xticks(years, [str(y) for y in years])
    return _drawn("capex_by_group", title, method, coverage, fig)


def chart_concentration(con: duckdb.DuckDBPyConnection, coverage_floor: float) -> Chart:
    title = "Market-cap concentration: Mag7 share of the S&P 500"
    method = (
        "marts.market_concentration: the Mag7's market cap (close as traded x shares "
        "outstanding as of the day) over the sum for the day's point-in-time S&P 500 members; "
        f"full, not float-adjusted, caps. NULL unless every Mag7 member and "
        f"{_floor_pct(coverage_floor)} of members have a market cap that day."
    )
    df = _frame(con, 'select * from marts.market_concentration order by "date"')
    if df is None or df.is_empty():
        return _not_built("market_concentration", title, method, "marts.market_concentration")
    last = df.tail(1).row(0, named=True)
    coverage = (
        f"latest day {last['date']}: {last['members_covered']}/{last['members']} members with a "
        f"market cap, Mag7 {last['mag7_members_covered']}/{last['mag7_members']}"
    )
    shown = df.filter(pl.col("mag7_share").is_not_null())
    if shown.is_empty():
        return _nothing_to_draw(
            "market_concentration", title, method, coverage,
            f"share NULL on every day; {coverage}")
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    ax.plot(shown["date"].to_list(), shown["mag7_share"].to_list(), color=_COLORS["mag7"])
    _percent_axis(ax)
    ax.set_title(title, loc="left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _drawn("market_concentration", title, method, coverage, fig)


def chart_return_contribution(con: duckdb.DuckDBPyConnection, coverage_floor: float) -> Chart:
    title = "Who delivered the market-cap gain since the base date"
    method = (
        "marts.return_contribution: each company's market-cap change from the last trading day "
        "on or before the base date (ChatGPT's launch, 2022-11-30) to the latest day, for the "
        "end day's S&P 500 members priced on both days; the 15 largest shown. Shares of the "
        f"index's gain are NULL below {_floor_pct(coverage_floor)} member coverage."
    )
    df = _frame(con, "select * from marts.return_contribution")
    if df is None or df.is_empty():
        return _not_built("return_contribution", title, method, "marts.return_contribution")
    index = df.filter(pl.col("group_name") == "sp500")
    groups = df.filter(pl.col("group_name").is_in(["mag7", "ai_basket"]))
    coverage = "no index row"
    if not index.is_empty():
        row = index.row(0, named=True)
        coverage = (
            f"{row['start_date']} to {row['end_date']}: {row['members_covered']}/{row['members']} "
            "members priced on both days"
        )
        shares = ", ".join(
            f"{g['group_name']} {_pct(g['share_of_index_gain'])} of the gain"
            for g in groups.iter_rows(named=True) if g["share_of_index_gain"] is not None
        )
        if shares:
            coverage += f"; {shares}"
    companies = (
        df.filter((pl.col("group_name") == "company") & pl.col("contribution").is_not_null())
        .sort("contribution", descending=True).head(15)
    )
    if companies.is_empty():
        return _nothing_to_draw(
            "return_contribution", title, method, coverage,
            f"no company priced at both ends; {coverage}")
    fig = Figure(figsize=(_SIZE[0], max(2.5, 0.35 * companies.height + 1.2)))
    ax = fig.add_subplot()
    labels = [t or str(c) for t, c in zip(companies["ticker"], companies["cik"], strict=True)]
    values = companies["contribution"].to_list()
    ax.barh(labels[::-1], values[::-1],
            color=[_COLORS["mag7"] if v >= 0 else "#d62728" for v in values[::-1]])
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _money(v)))
    ax.set_title(title, loc="left")
    ax.grid(alpha=0.3, axis="x")
    return _drawn("return_contribution", title, method, coverage, fig)


def chart_ai_capex_vs_gdp(con: duckdb.DuckDBPyConnection, coverage_floor: float) -> Chart:
    title = "Hyperscaler capex vs US GDP"
    method = (
        "marts.ai_capex_vs_gdp: the trailing-twelve-month cash capex of MSFT, AMZN, GOOGL, "
        "META and ORCL (raw.hyperscalers; 10-K/10-Q) over trailing nominal GDP (FRED GDP, "
        "mean of four quarters' annual rates). All capex, not only AI. NULL unless every "
        "hyperscaler has a TTM figure."
    )
    df = _frame(con, "select * from marts.ai_capex_vs_gdp order by calendar_quarter")
    if df is None or df.is_empty():
        return _not_built("ai_capex_vs_gdp", title, method, "marts.ai_capex_vs_gdp")
    last = df.tail(1).row(0, named=True)
    coverage = (
        f"latest quarter {last['calendar_quarter']}: {last['companies_reporting_ttm']}/"
        f"{last['hyperscalers']} hyperscalers with a TTM capex"
    )
    shown = df.filter(pl.col("capex_ttm_share_of_gdp").is_not_null())
    if shown.is_empty():
        return _nothing_to_draw(
            "ai_capex_vs_gdp", title, method, coverage,
            f"share NULL in every quarter; {coverage}")
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    quarters = shown["calendar_quarter"].to_list()
    ax.plot(quarters, shown["capex_ttm_share_of_gdp"].to_list(), marker="o",
            color=_COLORS["mag7"], label="TTM capex / TTM GDP")
    ax.axhline(0.01, color="#d62728", linestyle=":", label="1% of GDP")
    step = max(1, len(quarters) // 12)
    ax.set_xticks(range(0, len(quarters), step), quarters[::step], rotation=45, ha="right")
    _percent_axis(ax)
    ax.set_title(title, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return _drawn("ai_capex_vs_gdp", title, method, coverage, fig)


def chart_deal_graph(con: duckdb.DuckDBPyConnection, coverage_floor: float) -> Chart:
    title = "Circular deals: who pays whom"
    method = (
        "raw.deals (data/deals.csv, each row with its public source): an arrow points the way "
        "money or value flows (investor to investee, customer to supplier), its width grows "
        "with the headline amount (parallel deals summed; dashed: amount undisclosed). Red "
        "arrows lie on a cycle found by marts.deal_cycles. Amounts mix ceilings, multi-year "
        "commitments and equity: an order of magnitude, not cash that moved."
    )
    deals = _frame(
        con,
        "select from_company, to_company, sum(try_cast(amount_usd as double)) as amount_usd, "
        "count(*) as deals from raw.deals where from_company is not null "
        "and to_company is not null and from_company <> to_company group by all",
    )
    if deals is None or deals.is_empty():
        return Chart("deal_graph", title, method, "no deals loaded",
                     _no_data(title, "raw.deals is missing or empty"), False)
    cycles = _frame(con, "select companies from marts.deal_cycles")
    on_cycle: set[tuple[str, str]] = set()
    for companies in ([] if cycles is None else cycles["companies"].to_list()):
        for a, b in zip(companies, [*companies[1:], companies[0]], strict=True):
            on_cycle.add((a, b))
    names = sorted(set(deals["from_company"]) | set(deals["to_company"]))
    n_cycles = 0 if cycles is None else cycles.height
    coverage = (
        f"{int(deals['deals'].sum())} deals between {len(names)} companies, "
        f"{deals['amount_usd'].is_not_null().sum()}/{deals.height} company pairs with an amount; "
        f"{n_cycles} cycles"
    )
    angle = {name: 2 * math.pi * i / len(names) for i, name in enumerate(names)}
    pos = {name: (math.cos(a), math.sin(a)) for name, a in angle.items()}
    biggest = deals["amount_usd"].max() or 1.0
    fig = Figure(figsize=(9.0, 9.0))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_axis_off()
    for row in deals.iter_rows(named=True):
        start, end = pos[row["from_company"]], pos[row["to_company"]]
        amount = row["amount_usd"]
        width = 0.8 if amount is None else 0.8 + 7.0 * math.sqrt(amount / biggest)
        red = (row["from_company"], row["to_company"]) in on_cycle
        ax.add_patch(FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=12 + width, linewidth=width,
            connectionstyle="arc3,rad=0.15", shrinkA=16, shrinkB=16,
            color="#d62728" if red else "#1f77b4", alpha=0.55,
            linestyle="--" if amount is None else "-",
        ))
    for name, (x, y) in pos.items():
        ax.plot([x], [y], "o", markersize=10, color="#333333")
        side = "left" if x > 0.2 else "right" if x < -0.2 else "center"
        ax.text(1.1 * x, 1.1 * y, name, ha=side, va="center", fontsize=9)
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.3, 1.3)
    ax.set_title(title, loc="left")
    return _drawn("deal_graph", title, method, coverage, fig)


# Each chart gets the connection and the coverage floor (not every chart applies one: capex,
# capex vs GDP and the deal graph show their own coverage instead).
CHARTS: tuple[Callable[[duckdb.DuckDBPyConnection, float], Chart], ...] = (
    chart_earnings_share,
    chart_capex,
    chart_concentration,
    chart_return_contribution,
    chart_ai_capex_vs_gdp,
    chart_deal_graph,
)


# ---------------------------------------------------------------------------------------------
# Headlines and the claim table


@dataclass(frozen=True)
class HeadlineQuery:
    """One headline number: the mart it reads and a query returning its newest value.

    `$coverage_floor`, where the query has it, is bound to the run's floor (a parameter, never
    formatted into the SQL). A NULL (coverage below the floor) or no row means no headline.
    """

    table: str
    query: str


# Label -> the one number a person looks for first. The report shows them; the Dagster asset
# of `table` puts the newest value on its materialization as float metadata (its history is
# plotted). A share or growth computed from the few companies on file is not the index's: the
# queries on marts that leave the floor to their readers apply it here.
HEADLINE_QUERIES: dict[str, HeadlineQuery] = {
    "mag7_earnings_share": HeadlineQuery(
        "marts.mag7_earnings_share",
        "select mag7_share from marts.mag7_earnings_share "
        "where mag7_share is not null and members_reporting >= $coverage_floor * members "
        "order by calendar_quarter desc limit 1",
    ),
    "mag7_share_of_earnings_growth_since_2022q4": HeadlineQuery(
        "marts.mag7_earnings_share",
        "select mag7_share_of_growth_since_2022q4 from marts.mag7_earnings_share "
        "where mag7_share_of_growth_since_2022q4 is not null "
        "and growth_basis_companies >= $coverage_floor * members "
        "order by calendar_quarter desc limit 1",
    ),
    # Growth only where the floor's share of the group reports both years (a like-for-like
    # subset of 3 of 7 companies is not the Mag7's growth).
    "mag7_capex_growth": HeadlineQuery(
        "marts.capex_growth",
        "select growth from marts.capex_growth where group_name = 'mag7' "
        "and growth is not null and companies_reporting >= $coverage_floor * companies "
        "order by calendar_year desc limit 1",
    ),
    "other_capex_growth": HeadlineQuery(
        "marts.capex_growth",
        "select growth from marts.capex_growth where group_name = 'other' "
        "and growth is not null and companies_reporting >= $coverage_floor * companies "
        "order by calendar_year desc limit 1",
    ),
    # The two market marts apply getvariable('coverage_floor') themselves (NULL below it).
    "mag7_market_cap_share": HeadlineQuery(
        "marts.market_concentration",
        'select mag7_share from marts.market_concentration '
        'where mag7_share is not null order by "date" desc limit 1',
    ),
    "ai_basket_share_of_index_gain": HeadlineQuery(
        "marts.return_contribution",
        "select share_of_index_gain from marts.return_contribution "
        "where group_name = 'ai_basket' and share_of_index_gain is not null",
    ),
    # NULL unless every hyperscaler has a TTM capex: a stricter floor of its own.
    "hyperscaler_capex_share_of_gdp": HeadlineQuery(
        "marts.ai_capex_vs_gdp",
        "select capex_ttm_share_of_gdp from marts.ai_capex_vs_gdp "
        "where capex_ttm_share_of_gdp is not null order by calendar_quarter desc limit 1",
    ),
}


def headlines_for(table: str) -> list[str]:
    """Labels of the headline numbers read from `table` (e.g. 'marts.capex_growth')."""
    return [label for label, headline in HEADLINE_QUERIES.items() if headline.table == table]


def headline_numbers(
    con: duckdb.DuckDBPyConnection, coverage_floor: float = 0.9, *, table: str | None = None
) -> dict[str, float]:
    """The newest well-covered value of each headline (only those read from `table`, if given);
    absent when NULL, below `coverage_floor` (AIWATCH_COVERAGE_FLOOR) or the mart is missing."""
    numbers: dict[str, float] = {}
    for label, headline in HEADLINE_QUERIES.items():
        if table is not None and headline.table != table:
            continue
        # Bound only where the query reads it: DuckDB refuses a parameter the query lacks.
        params = (
            {"coverage_floor": coverage_floor} if "$coverage_floor" in headline.query else None
        )
        frame = _frame(con, headline.query, params)
        if frame is not None and frame.height and frame.item(0, 0) is not None:
            numbers[label] = float(frame.item(0, 0))
    return numbers


def _figure(value: object, unit: object) -> str:
    if value is None:
        return "—"
    if not isinstance(value, int | float):
        return str(value)
    if unit in {"share", "growth"}:
        return _pct(float(value))
    if unit == "usd":
        return _money(float(value))
    return f"{value:,.4g}"


def _claims_table(con: duckdb.DuckDBPyConnection) -> tuple[str, int]:
    df = _frame(con, "select * from marts.claim_checks order by claim_id")
    if df is None or df.is_empty():
        return '<p class="nodata">no data (marts.claim_checks is missing or empty)</p>', 0
    head = ("claim", "cited by", "cited", "recomputed", "as of", "coverage", "verdict", "method")
    rows = []
    for r in df.iter_rows(named=True):
        verdict = str(r.get("verdict") or "")
        cells = [
            f'<b>{html.escape(str(r.get("claim_id")))}</b> {html.escape(str(r.get("claim") or ""))}',
            # The source as text, not a link: the page references nothing outside itself.
            f'{html.escape(str(r.get("cited_by") or ""))}<br><span class="rule">'
            f'{html.escape(str(r.get("source") or ""))}</span>',
            html.escape(_figure(r.get("cited_figure"), r.get("cited_unit"))),
            html.escape(_figure(r.get("recomputed_figure"), r.get("cited_unit"))),
            html.escape(str(r.get("as_of") or "—")),
            html.escape(str(r.get("coverage") or "—")),
            f'<span class="v {html.escape(verdict.split(" ")[0])}">{html.escape(verdict)}</span>',
            html.escape(str(r.get("method") or "")) + '<br><span class="rule">'
            + html.escape(str(r.get("rule") or "")) + "</span>",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
    return f"<table>{header}{''.join(rows)}</table>", df.height


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}.sub{color:#666;margin-top:0}
figure{margin:2em 0;border-top:1px solid #ddd;padding-top:1em}
figure img{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#444}figcaption .cov{color:#a15c00}
table{border-collapse:collapse;font-size:.85em;width:100%}
th,td{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}
td .rule,td:last-child{overflow-wrap:anywhere}
th{background:#f5f5f5}.rule{color:#777;font-size:.9em}
.v{font-weight:bold}.v.supported{color:#1a7f37}.v.contradicted{color:#c62828}
.v.partly{color:#b26a00}.v.insufficient,.v.not{color:#666}
dl.h{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dl.h dt{color:#555}
.nodata{color:#666}
"""


def _html_page(charts: list[Chart], claims_html: str, headlines: dict[str, float],
               generated: datetime) -> str:
    figures = []
    for chart in charts:
        figures.append(
            f'<figure id="{chart.name}"><img alt="{html.escape(chart.title)}" '
            f'src="{chart.data_uri()}"><figcaption><b>{html.escape(chart.title)}.</b> '
            f'{html.escape(chart.method)} <span class="cov">Coverage: '
            f'{html.escape(chart.coverage)}.</span></figcaption></figure>'
        )
    if headlines:
        items = "".join(
            f"<dt>{html.escape(k.replace('_', ' '))}</dt><dd>{_pct(v)}</dd>"
            for k, v in headlines.items()
        )
        headline_html = f'<dl class="h">{items}</dl>'
    else:
        headline_html = (
            '<p class="nodata">No headline figure reaches the coverage floor yet '
            "(the bundled snapshot holds a handful of companies; a live run fills it).</p>"
        )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>aiwatch report</title><style>{_CSS}</style></head><body>"
        "<h1>aiwatch: the AI boom against the filings</h1>"
        f'<p class="sub">Generated {generated:%Y-%m-%d %H:%M} UTC from the published warehouse. '
        "Figures are recomputed from SEC 10-K/10-Q XBRL filings, S&amp;P 500 membership, prices "
        "and FRED; every chart says what it covers.</p>"
        f"<h2>Headline numbers</h2>{headline_html}"
        f"<h2>Claims, recomputed</h2>{claims_html}"
        "<h2>Charts</h2>" + "".join(figures) + "</body></html>"
    )


def build_report(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    coverage_floor: float = 0.9,
) -> ReportResult:
    """Write `out_dir/report.html` (charts embedded) and each chart's PNG next to it.

    `con` may be read-only. `coverage_floor` is the share of a universe that must report before
    an aggregate is shown: pass `Settings.coverage_floor` (AIWATCH_COVERAGE_FLOOR), the floor
    the marts were built with, so page and marts agree. `progress(done, total, what)` is called
    as each part finishes, so a caller can show a progress bar. Never fails for a missing or
    empty mart: its chart becomes a "no data" panel that says why.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total = len(CHARTS) + 2
    charts = []
    for done, draw in enumerate(CHARTS, start=1):
        chart = draw(con, coverage_floor)
        (out_dir / chart.file_name).write_bytes(chart.png)
        charts.append(chart)
        if progress:
            progress(done, total, chart.title)
    claims_html, claims = _claims_table(con)
    headlines = headline_numbers(con, coverage_floor)
    if progress:
        progress(total - 1, total, "claim table and headline numbers")
    page = _html_page(charts, claims_html, headlines, datetime.now(UTC))
    html_path = out_dir / REPORT_FILE
    # Write then rename: a browser open on the old page never reads half a file.
    partial = html_path.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(html_path)
    if progress:
        progress(total, total, f"wrote {html_path}")
    log.info("report: %s (%d charts, %d with data)", html_path, len(charts),
             sum(c.has_data for c in charts))
    return ReportResult(html_path=html_path, charts=charts, headlines=headlines, claims=claims)
