"""Dagster asset that publishes ``serving.duckdb`` after everything upstream has succeeded."""


import dagster as dg

from orchestration.partitions import run_settings
from orchestration.publish import publish, published_tables
from orchestration.resources import WarehouseResource


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["serving", "serving_database"]),
        group_name="publish",
        deps=upstream,
        kinds={"duckdb"},
        description="serving.duckdb: the read-only copy of the reporting tables that the app and analysts open.",
    )
    def serving_database(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = run_settings(context, warehouse.settings)
        counts = publish(
            settings.warehouse_path, settings.serving_path, published_tables(),
            run_id=context.run_id, as_of=settings.as_of,
        )
        return dg.MaterializeResult(metadata={"tables": len(counts), **{k: v for k, v in counts.items()}})

    return serving_database
