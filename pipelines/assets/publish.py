"""The last step of a run: publish the warehouse users query."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pipelines.resources import AiwatchResource


def build_publish_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["warehouse", "published"],
        deps=list(upstream),
        group_name="publish",
        kinds={"duckdb"},
    )
    def published(aiwatch: AiwatchResource) -> dg.MaterializeResult:
        """The DuckDB file users query (`AIWATCH_DB`): a read-only copy of the run's warehouse,
        swapped in atomically once every table is built, so a reader never waits on the
        pipeline's write lock and never sees a half-finished run."""
        wh = aiwatch.warehouse()
        path = wh.publish()
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "bytes": dg.MetadataValue.int(path.stat().st_size),
            }
        )

    return published
