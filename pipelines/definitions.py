"""aiwatch's Dagster code location (`[tool.dagster]` in pyproject.toml points here).

Raw assets fetch sources into `raw.*`; one asset per SQL file builds `staging.*` and `marts.*`;
asset checks audit the marts; the last asset publishes the file users query. One daily
schedule materializes everything."""

from __future__ import annotations

import dagster as dg

from aiwatch import sqlmodels
from aiwatch.settings import Settings
from pipelines.assets.market import market_assets
from pipelines.assets.models import build_model_asset
from pipelines.assets.publish import build_publish_asset
from pipelines.assets.raw import raw_assets
from pipelines.assets.report import report_html
from pipelines.checks import build_checks
from pipelines.resources import AiwatchResource

_SQL_DIR = Settings.from_env().sql_dir
models = sqlmodels.discover(_SQL_DIR)
model_assets = [build_model_asset(model) for model in models]
published = build_publish_asset(
    [key for asset in [*raw_assets, *market_assets, *model_assets] for key in asset.keys]
)

daily_refresh = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Everything: fetch what changed, rebuild the models, publish the warehouse.",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=daily_refresh,
    # 09:00 UTC every day: after SEC's nightly work (the previous day's daily index appears by
    # ~22:00 ET, the bulk companyfacts/submissions archives by ~03:00 ET = 07:00-08:00 UTC) and
    # after the US market's previous close, before the next open (13:30 UTC).
    cron_schedule="0 9 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    # One process for the whole run: SEC's per-user budget, not CPU, bounds the downloads, and
    # DuckDB takes one writer at a time, so step processes would only add ~3 s of start-up each
    # (`make run` on the snapshot: 2m51s multiprocess, 11s in process). The cross-process
    # rate limiter and writer lock still hold if a deployment chooses the multiprocess executor.
    executor=dg.in_process_executor,
    assets=[*raw_assets, *market_assets, *model_assets, published, report_html],
    asset_checks=build_checks(models, _SQL_DIR),
    jobs=[daily_refresh],
    schedules=[daily_refresh_schedule],
    resources={"aiwatch": AiwatchResource()},
)
