"""One asset per SQL model file: `sql/marts/x.sql` is table `marts.x` and asset `marts/x`.

Upstream assets are the tables the query reads, found by parsing it (`aiwatch.sqlmodels`), so
the lineage graph in the UI is exactly what the SQL reads, never a hand-kept list."""

from __future__ import annotations

import dagster as dg

from aiwatch import sqlmodels
from pipelines.resources import AiwatchResource

# The number a user wants to see plotted over time in the UI, per mart: the newest value.
HEADLINES: dict[str, tuple[str, str]] = {
    "marts.mag7_earnings_share": (
        "mag7_share",
        "select mag7_share from marts.mag7_earnings_share where mag7_share is not null "
        "order by calendar_quarter desc limit 1",
    ),
    "marts.market_concentration": (
        "mag7_share",
        "select mag7_share from marts.market_concentration where mag7_share is not null "
        "order by date desc limit 1",
    ),
}


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def build_model_asset(model: sqlmodels.SqlModel) -> dg.AssetsDefinition:
    @dg.asset(
        key=table_key(model.table),
        deps=[table_key(dep) for dep in model.deps],
        description=model.description,
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        code_version=model.code_version,
        metadata={"sql_file": dg.MetadataValue.path(str(model.path))},
    )
    def _model(aiwatch: AiwatchResource) -> dg.MaterializeResult:
        wh = aiwatch.warehouse()
        with wh.writer() as con:
            rows = sqlmodels.run_model(con, model, sqlmodels.model_variables(wh.settings))
            metadata: dict[str, dg.MetadataValue] = {
                "dagster/row_count": dg.MetadataValue.int(rows),
                "preview": dg.MetadataValue.md(wh.table_preview(con, model.table)),
            }
            if model.table in HEADLINES:
                label, query = HEADLINES[model.table]
                row = con.execute(query).fetchone()
                if row is not None and row[0] is not None:
                    metadata[label] = dg.MetadataValue.float(float(row[0]))
        return dg.MaterializeResult(metadata=metadata)

    return _model
