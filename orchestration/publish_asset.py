"""Dagster asset that publishes ``serving.duckdb`` after everything upstream has succeeded."""

import os
import sqlite3

import dagster as dg

from orchestration.accounts.config import AuthConfig
from orchestration.approvals.restatements import check_after_publish
from orchestration.approvals.store import ApprovalError, default_path
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
        restated = _restatements(settings)
        if restated:
            context.log.warning(restated)
        return dg.MaterializeResult(
            metadata={
                "approved_months_restated": restated or "none",
                "tables": len(out.counts),
                "built_on_top_of": out.on_top_of or "",
                **{f"tables_{how.replace(' ', '_')}": n for how, n in out.summary().items()},
                **out.counts,
            }
        )

    return serving_database


def _restatements(settings) -> str | None:
    """The approved months this publication restates; a problem reading the approvals file is reported,
    not raised: the figures are published either way, and the app lists restatements itself."""
    try:
        # The accounts file of this run's data folder, wherever the environment points.
        accounts = AuthConfig.from_env({**os.environ, "GT_DATA_DIR": str(settings.data_dir)}).accounts_path
        return check_after_publish(default_path(settings), settings.serving_path, accounts)
    except (ApprovalError, sqlite3.Error) as exc:
        return f"could not compare the approved months with this publication: {exc}"
