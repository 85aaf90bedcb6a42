"""Dagster asset that publishes ``serving.duckdb`` after everything upstream has succeeded."""


import dagster as dg

from orchestration.dbt import incremental_unique_keys
from orchestration.partitions import run_settings
from orchestration.publish import publish, published_tables
from orchestration.resources import WarehouseResource
from orchestration.warehouse import incremental_invocation


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
        with warehouse.connect() as con:
            invocation_id = incremental_invocation(con, context.run_id)
        out = publish(
            settings.warehouse_path,
            settings.serving_path,
            published_tables(),
            run_id=context.run_id,
            as_of=settings.as_of,
            invocation_id=invocation_id,
            unique_keys=incremental_unique_keys(),
        )
        if out.recovery():
            context.log.warning(out.recovery())
        context.log.info(
            f"serving.duckdb built on top of run {out.on_top_of}: {out.summary()}"
            if out.on_top_of
            else "serving.duckdb built whole"
        )
        return dg.MaterializeResult(
            metadata={
                "tables": len(out.counts),
                "built_on_top_of": out.on_top_of or "",
                **{f"tables_{how.replace(' ', '_')}": n for how, n in out.summary().items()},
                **out.counts,
            }
        )

    return serving_database
