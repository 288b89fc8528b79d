"""The report a person opens after each run: `$AIWATCH_HOME/report/report.html` and its PNGs.

It runs after the publish step and reads the PUBLISHED database, read-only. Why: the page
then shows exactly the numbers a user gets from `aiwatch sql`/`aiwatch claims` on that file;
it never takes the writer lock, so it neither delays publishing nor waits on the next run's
writes; and a charting problem cannot hold back the warehouse (publish has already happened).
The marts it reads are declared as deps too, so the lineage graph shows what feeds each chart.
"""

# No `from __future__ import annotations`: Dagster reads the `context` annotation at runtime.
import dagster as dg
import duckdb

from aiwatch.report import build_report
from pipelines.resources import AiwatchResource

# What the charts, the claim table and the headline numbers read.
REPORT_INPUTS = (
    "marts.mag7_earnings_share",
    "marts.capex_growth",
    "marts.market_concentration",
    "marts.return_contribution",
    "marts.ai_capex_vs_gdp",
    "marts.deal_cycles",
    "marts.claim_checks",
    "raw.deals",
)


@dg.asset(
    key=["report", "html"],
    deps=[
        *(dg.AssetKey(table.split(".")) for table in REPORT_INPUTS),
        dg.AssetKey(["warehouse", "published"]),
    ],
    group_name="publish",
    kinds={"html", "matplotlib"},
)
def report_html(
    context: dg.AssetExecutionContext, aiwatch: AiwatchResource
) -> dg.MaterializeResult:
    """A self-contained HTML page (charts embedded as PNG data URIs, no script, opens offline)
    with the Mag7's earnings share, capex by group, market-cap concentration, return
    contribution, capex vs GDP, the deal graph and the claim checks; PNGs written next to it."""
    settings = aiwatch.settings()
    out_dir = settings.home / "report"
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        result = build_report(
            con, out_dir,
            progress=lambda done, total, what: context.log.info(f"report {done}/{total}: {what}"),
            coverage_floor=settings.coverage_floor,
        )
    finally:
        con.close()
    metadata: dict[str, dg.MetadataValue] = {
        "path": dg.MetadataValue.path(str(result.html_path)),
        "claims": dg.MetadataValue.int(result.claims),
        "charts_with_data": dg.MetadataValue.int(sum(c.has_data for c in result.charts)),
    }
    for chart in result.charts:
        metadata[f"chart_{chart.name}"] = dg.MetadataValue.md(
            f"![{chart.title}]({chart.data_uri()})\n\n*Coverage: {chart.coverage}*"
        )
    # Floats, so the UI plots their history across runs; only when not NULL.
    for label, value in result.headlines.items():
        metadata[label] = dg.MetadataValue.float(value)
    return dg.MaterializeResult(metadata=metadata)
