"""Data-quality gates: Great Expectations suites wrapped as blocking Dagster asset checks.

Raw suites run on each batch this run loaded, after ingestion and before dbt reads it; mart
suites run after dbt and before publish. A blocking failure stops everything downstream (so
``serving.duckdb`` is not replaced) and fails the run with the suite, expectation, counts and
sample keys; warnings are recorded, published, and mark the affected KPI values (dq_status).
"""

import dagster as dg
import duckdb

from expectations.pipeline import blocking_messages, check_marts, check_raw
from expectations.store import build_data_docs, ensure_dq_schema
from orchestration.partitions import run_settings
from orchestration.resources import WarehouseResource
from orchestration.warehouse import incremental_invocation


def batches_loaded_in_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, list[int]]:
    rows = con.execute(
        "select raw_table, list(batch_id order by batch_id) from audit.ingestion_log "
        "where run_id = ? and status = 'loaded' and rows_loaded > 0 group by raw_table",
        [run_id],
    ).fetchall()
    return {table: list(ids) for table, ids in rows}


def check_result(key: dg.AssetKey, name: str, results, messages: list[str]) -> dg.AssetCheckResult:
    warnings = sum(1 for r in results for c in r.checks if not c.success and c.severity == "warning")
    flagged = sum(c.unexpected_count or 0 for r in results for c in r.checks if not c.success)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=name,
        passed=not messages,
        severity=dg.AssetCheckSeverity.ERROR,
        description="\n".join(messages) or None,
        metadata={
            "suites": len(results),
            "blocking_failures": len(messages),
            "warnings": warnings,
            "records_flagged": flagged,
        },
    )


RAW_GATE = dg.AssetKey(["quality", "raw_batches_validated"])
MART_GATE = dg.AssetKey(["quality", "marts_validated"])


def build_raw_quality_gate(raw_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """Validate every batch this run landed, after all ingestion (cross-system checks read
    raw_current) and before dbt staging, which depends on this asset."""

    @dg.asset(
        key=RAW_GATE,
        group_name="quality",
        deps=raw_keys,
        kinds={"python"},
        description=(
            "Great Expectations raw suites on each landed batch; "
            "results in audit.dq_runs, audit.dq_results and audit.dq_record_flags."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "great_expectations",
                asset=RAW_GATE,
                blocking=True,
                description="No blocking expectation failed on any batch landed in this run.",
            )
        ],
    )
    def raw_batches_validated(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = run_settings(context, warehouse.settings)
        results = []
        with warehouse.connect() as con:
            ensure_dq_schema(con)
            for table, batch_ids in sorted(batches_loaded_in_run(con, context.run_id).items()):
                results.append(
                    check_raw(
                        con, table, batch_ids, run_id=context.run_id, as_of=settings.as_of, data_dir=settings.data_dir
                    )
                )
        messages = blocking_messages(results)
        yield dg.MaterializeResult(metadata={"tables_validated": len(results)})
        yield check_result(RAW_GATE, "great_expectations", results, messages)
        if messages:
            raise dg.Failure(description="Blocking data-quality failures in landed data:\n" + "\n".join(messages))

    return raw_batches_validated


def build_mart_quality_gate(mart_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish gate: mart suites after dbt; ``serving_database`` depends on this asset."""

    @dg.asset(
        key=MART_GATE,
        group_name="quality",
        deps=mart_keys,
        kinds={"python"},
        description=(
            "Great Expectations mart suites: plausible values, every KPI at every level, "
            "roll-ups reconcile, targets."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "great_expectations",
                asset=MART_GATE,
                blocking=True,
                description="No blocking expectation failed on the marts: otherwise nothing is published.",
            )
        ],
    )
    def marts_validated(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = run_settings(context, warehouse.settings)
        with warehouse.connect() as con:
            # A monthly close checks only the months its dbt build rewrote (see mart_suites).
            invocation_id = incremental_invocation(con, context.run_id)
            results = check_marts(
                con,
                run_id=context.run_id,
                as_of=settings.as_of,
                data_dir=settings.data_dir,
                invocation_id=invocation_id,
            )
        messages = blocking_messages(results)
        try:
            build_data_docs(settings.data_dir, run_id=context.run_id)
        except Exception as exc:  # Data Docs are a by-product: never fail the gate for them.
            context.log.warning(f"Data Docs not built: {exc}")
        yield dg.MaterializeResult(
            metadata={"suites": len(results), "scope": "months rewritten by this run" if invocation_id else "all"}
        )
        yield check_result(MART_GATE, "great_expectations", results, messages)
        if messages:
            raise dg.Failure(
                description="Publish stopped, serving.duckdb left as it was: "
                "blocking data-quality failures in the marts:\n"
                + "\n".join(messages)
            )

    return marts_validated
