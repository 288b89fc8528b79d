"""One asset per SQL model file: `sql/marts/x.sql` is table `marts.x` and asset `marts/x`.

Upstream assets are the tables the query reads, found by parsing it (`aiwatch.sqlmodels`), so
the lineage graph in the UI is exactly what the SQL reads, never a hand-kept list."""

from __future__ import annotations

import dagster as dg

from aiwatch import sqlmodels
from aiwatch.report import headline_numbers
from pipelines.resources import AiwatchResource


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
            # The headline numbers read from this mart (aiwatch.report.HEADLINE_QUERIES, the
            # same the report shows), newest value above the coverage floor, as floats so the
            # UI plots their history; absent when NULL or below the floor.
            numbers = headline_numbers(con, wh.settings.coverage_floor, table=model.table)
            for label, value in numbers.items():
                metadata[label] = dg.MetadataValue.float(value)
        return dg.MaterializeResult(metadata=metadata)

    return _model
