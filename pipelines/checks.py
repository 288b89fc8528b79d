"""Asset checks, visible in the UI.

Audits are SQL files (`sql/audits/<schema>.<table>__<check>.sql` or as `aiwatch.sqlmodels`
names them) that return the offending rows: zero rows passes, and the first rows go into the
check's metadata. Coverage checks compare members reporting with the configured floor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from aiwatch import sqlmodels
from aiwatch.settings import Settings
from pipelines.assets.models import table_key
from pipelines.metadata import markdown_table
from pipelines.resources import AiwatchResource

# Aggregates and the columns that say how many members they cover.
COVERAGE: dict[str, tuple[str, str, str]] = {
    # table: (members column, reporting column, the period column)
    "marts.mag7_earnings_share": ("members", "members_reporting", "calendar_quarter"),
    "marts.market_concentration": ("members", "members_covered", "date"),
}


def _audit_check(audit: sqlmodels.Audit) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table_key(audit.table),
        name=audit.name,
        description=audit.description,
        blocking=audit.blocking,
    )
    def _check(aiwatch: AiwatchResource) -> dg.AssetCheckResult:
        wh = aiwatch.warehouse()
        with wh.writer() as con:
            offending = con.sql(audit.sql).pl()
        return dg.AssetCheckResult(
            passed=offending.height == 0,
            severity=dg.AssetCheckSeverity.ERROR if audit.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "offending_rows": dg.MetadataValue.int(offending.height),
                "sample": dg.MetadataValue.md(markdown_table(offending.head(20))),
            },
        )

    return _check


def _coverage_check(table: str) -> dg.AssetChecksDefinition:
    members, reporting, period = COVERAGE[table]

    @dg.asset_check(
        asset=table_key(table),
        name="coverage",
        description=f"The newest {period} must have {reporting}/{members} at or above "
        "AIWATCH_COVERAGE_FLOOR (default 0.9): a share computed from a few companies is not "
        "the S&P 500's.",
    )
    def _check(aiwatch: AiwatchResource) -> dg.AssetCheckResult:
        settings: Settings = aiwatch.settings()
        wh = aiwatch.warehouse()
        with wh.writer() as con:
            row = con.execute(
                f"select {period}, {members}, {reporting} from {table} "
                f"where {reporting} > 0 order by {period} desc limit 1"
            ).fetchone()
        if row is None:
            return dg.AssetCheckResult(passed=False, metadata={"reason": "no period has data"})
        as_of, total, reported = row
        coverage = reported / total if total else 0.0
        return dg.AssetCheckResult(
            passed=coverage >= settings.coverage_floor,
            metadata={
                "as_of": dg.MetadataValue.text(str(as_of)),
                "members": dg.MetadataValue.int(int(total or 0)),
                "members_reporting": dg.MetadataValue.int(int(reported or 0)),
                "coverage": dg.MetadataValue.float(float(coverage)),
                "floor": dg.MetadataValue.float(settings.coverage_floor),
            },
        )

    return _check


def build_checks(
    models: Sequence[sqlmodels.SqlModel], sql_dir: Path
) -> list[dg.AssetChecksDefinition]:
    tables = {model.table for model in models}
    checks = [_audit_check(audit) for audit in sqlmodels.discover_audits(sql_dir)]
    checks += [_coverage_check(table) for table in COVERAGE if table in tables]
    return checks
