"""The Dagster code location: every asset, check, job, schedule, sensor and resource."""

import dagster as dg

from orchestration.close_asset import monthly_deliveries
from orchestration.dbt import build_dbt_assets, dbt_resource
from orchestration.ingestion.assets import INGESTION_ASSETS
from orchestration.partitions import close_month
from orchestration.publish_asset import build_publish_asset
from orchestration.quality import build_mart_quality_gate, build_raw_quality_gate
from orchestration.resources import WarehouseResource
from orchestration.sensors import build_landing_sensor
from orchestration.settings import Settings
from orchestration.sharing_asset import partner_extracts

PIPELINE_JOB = "golden_thread"


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    dbt = build_dbt_assets()
    raw_keys = [key for a in INGESTION_ASSETS for key in a.keys]
    mart_keys = [key for key in dbt.keys if key.path[0] == "marts"]
    raw_gate = build_raw_quality_gate(raw_keys)
    mart_gate = build_mart_quality_gate(mart_keys)
    publish = build_publish_asset([*raw_keys, *dbt.keys, mart_gate.key])
    assets = [monthly_deliveries, *INGESTION_ASSETS, raw_gate, dbt, mart_gate, publish, partner_extracts]
    pipeline = dg.define_asset_job(
        PIPELINE_JOB,
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups("sharing"),
        description="Ingest every source system, build, check and publish serving.duckdb.",
    )
    ingestion = dg.define_asset_job(
        "ingest_everything",
        selection=dg.AssetSelection.groups("ingestion"),
        description="Ingest every source system into raw.* (no build or publish).",
    )
    sharing = dg.define_asset_job(
        "partner_extracts",
        selection=dg.AssetSelection.groups("sharing"),
        description="Write partner extracts for every active information sharing agreement.",
    )

    @dg.schedule(
        name="monthly_close",
        job=pipeline,
        cron_schedule="0 6 3 * *",
        execution_timezone="Europe/London",
        description="Month-end close on the 3rd morning: the month just ended (and any re-delivered month).",
    )
    def monthly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(partition_key=close_month(context.scheduled_execution_time.date()))
    return dg.Definitions(
        assets=assets,
        jobs=[pipeline, ingestion, sharing],
        schedules=[monthly],
        sensors=[build_landing_sensor(pipeline)],
        resources={"warehouse": WarehouseResource.from_settings(settings), "dbt": dbt_resource()},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
