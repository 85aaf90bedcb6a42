"""Dagster ingestion assets: one per source system, each reconciling every file it loads."""

import dagster as dg

from orchestration.ingestion.contracts import SYSTEMS, entities_for, system_description
from orchestration.ingestion.engine import (
    IngestReport,
    ingest_app_store,
    ingest_real_data,
    ingest_system,
    load_pseudonymiser,
)
from orchestration.ingestion.mapping import load_mappings, mapping_dirs
from orchestration.partitions import CLOSE_KEY
from orchestration.resources import WarehouseResource
from orchestration.warehouse import scalar

GROUP = "ingestion"


def reconciliation_check(asset_key: dg.AssetKey, report: IngestReport, con) -> dg.AssetCheckResult:
    tables = sorted({o.raw_table for o in report.outcomes})
    broken = 0
    if tables:
        placeholders = ",".join("?" * len(tables))
        broken = scalar(
            con,
            f"select count(*) from audit.ingestion_log where raw_table in ({placeholders}) "
            "and rows_received <> rows_loaded + rows_quarantined",
            tables,
        )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name="rows_reconcile",
        passed=broken == 0,
        metadata={"files_not_reconciling": broken},
    )


def report_metadata(report: IngestReport) -> dict:
    totals = report.totals()
    refused = [f"{o.file_name}: {o.message}" for o in report.failures]
    # A loaded file with a message is a copy of another file: its rows were all quarantined.
    copies = [f"{o.file_name}: {o.message}" for o in report.outcomes if o.status == "loaded" and o.message]
    held = [f"{o.file_name}: {o.message}" for o in report.held]
    return {
        **totals,
        "refused": dg.MetadataValue.md("\n".join(f"- {r}" for r in refused) or "none"),
        "copies_refused": dg.MetadataValue.md("\n".join(f"- {r}" for r in copies) or "none"),
        "held": dg.MetadataValue.md("\n".join(f"- {r}" for r in held) or "none"),
    }


def warn_held(context: dg.AssetExecutionContext, con, tables: list[str]) -> None:
    """A held re-delivery does not fail the step: the run publishes the rest, with a warning per
    held file until a person decides (``python -m orchestration.cli deliveries``)."""
    from orchestration.deliveries import pending_files

    for f in pending_files(con, tables):
        if f.status == "held":
            context.log.warning(f"{f.file_name} (batch {f.batch_id}) {f.message}")


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def build_system_asset(system: str) -> dg.AssetsDefinition:
    entities = entities_for(system)
    keys = [table_key(e.table) for e in entities]
    # Every load follows the close asset, which fixes the run's months; facts need the reference data.
    deps = [CLOSE_KEY] + ([] if system == "reference" else [table_key(e.table) for e in entities_for("reference")])
    specs = [
        dg.AssetSpec(
            key,
            group_name=GROUP,
            deps=deps,
            kinds={"duckdb", "python"},
            description=f"{system_description(system)}: raw.{e.table} (every delivery, with lineage).",
        )
        for key, e in zip(keys, entities, strict=True)
    ]
    checks = [
        dg.AssetCheckSpec(
            "rows_reconcile",
            asset=key,
            blocking=True,
            description="rows_received = rows_loaded + rows_quarantined for every file",
        )
        for key in keys
    ]

    @dg.multi_asset(name=f"ingest_{system}", specs=specs, check_specs=checks)
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings
        with warehouse.connect() as con:
            report = ingest_system(
                con,
                system,
                settings.landing_dir,
                load_pseudonymiser(settings.secrets_dir),
                context.run_id,
                mappings=load_mappings(mapping_dirs(settings.mappings_dir)),
            )
            for entity, key in zip(entities, keys, strict=True):
                part = IngestReport([o for o in report.outcomes if o.raw_table == entity.table])
                yield dg.MaterializeResult(asset_key=key, metadata=report_metadata(part))
                yield reconciliation_check(key, part, con)
            warn_held(context, con, [e.table for e in entities])
        context.log.info(f"{system}: {report.totals()}")
        # A refused file does not fail the step: the run loads and publishes everything else, and
        # says which files it refused and why (here, in the run summary and in the ingestion log).
        for outcome in report.failures:
            context.log.warning(f"refused {outcome.file_name}: {outcome.message}")

    return _ingest


SYSTEM_ASSETS = [build_system_asset(s) for s in SYSTEMS]


def build_real_data_asset() -> dg.AssetsDefinition:
    from orchestration.ingestion.real_data import REAL_ENTITIES

    keys = [table_key(e.table) for e in REAL_ENTITIES]
    specs = [
        dg.AssetSpec(
            key,
            group_name=GROUP,
            deps=[CLOSE_KEY],
            kinds={"duckdb", "python"},
            description=f"Real public data: raw.{e.table}.",
        )
        for key, e in zip(keys, REAL_ENTITIES, strict=True)
    ]

    @dg.multi_asset(
        name="ingest_real_public_data",
        specs=specs,
        check_specs=[dg.AssetCheckSpec("rows_reconcile", asset=k, blocking=True) for k in keys],
        description=(
            "Real public data from GT_REAL_DATA_DIR: Home Office FIRE1001 response times and fire "
            "stations, ONS population and the LAD to fire authority lookup, and London Fire Brigade "
            "incidents and mobilisations (loaded into raw.irs__incidents / raw.mobilising__mobilisations "
            "as service LFB)."
        ),
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings
        if settings.real_data_dir is None:
            if settings.require_real_data:
                raise FileNotFoundError("REQUIRE_REAL_DATA=1 but the real-data folder is absent (set GT_REAL_DATA_DIR)")
            context.log.warning("real public data folder not found: continuing with demo data only")
        with warehouse.connect() as con:
            report = ingest_real_data(
                con, settings.real_data_dir, load_pseudonymiser(settings.secrets_dir), context.run_id
            )
            context.log.info(f"real public data: {report.totals()}")
            warn_held(context, con, [e.table for e in REAL_ENTITIES])
            for entity, key in zip(REAL_ENTITIES, keys, strict=True):
                part = IngestReport([o for o in report.outcomes if o.raw_table == entity.table])
                yield dg.MaterializeResult(asset_key=key, metadata=report_metadata(part))
                yield reconciliation_check(key, part, con)
        report.raise_for_failures()

    return _ingest


COMMENTARY_KEY = table_key("app__commentary")


@dg.asset(
    key=COMMENTARY_KEY,
    group_name=GROUP,
    deps=[CLOSE_KEY],
    kinds={"duckdb", "sqlite"},
    description=(
        "Owner commentary and actions written in the app (data/app_store/commentary.sqlite, append-only), "
        "ingested like any source; authors and action owners pseudonymised."
    ),
    check_specs=[dg.AssetCheckSpec("rows_reconcile", asset=COMMENTARY_KEY, blocking=True)],
)
def raw_app__commentary(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    with warehouse.connect() as con:
        report = ingest_app_store(con, settings.app_store_dir, load_pseudonymiser(settings.secrets_dir), context.run_id)
        yield dg.MaterializeResult(metadata=report_metadata(report))
        yield reconciliation_check(COMMENTARY_KEY, report, con)
    report.raise_for_failures()


INGESTION_ASSETS = [build_real_data_asset(), *SYSTEM_ASSETS, raw_app__commentary]
