"""Jobs for tests that run Dagster steps in separate processes (`dg.reconstructable` needs a
module-level function in an importable file without test-only imports)."""

from __future__ import annotations

import dagster as dg

SEC_FETCH_ASSETS = [dg.AssetKey(["raw", "sec_companyfacts"]), dg.AssetKey(["raw", "sec_filings"])]


def sec_fetch_job() -> dg.JobDefinition:
    """The two SEC fetching assets, run by the multiprocess executor: two step processes."""
    from pipelines.definitions import defs

    job = dg.define_asset_job("sec_fetch", selection=SEC_FETCH_ASSETS)
    return dg.Definitions(
        assets=defs.assets, resources=defs.resources, jobs=[job]
    ).resolve_job_def("sec_fetch")
