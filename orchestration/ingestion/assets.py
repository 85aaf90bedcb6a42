"""Dagster ingestion assets: one per source system, each reconciling every file it loads."""


import dagster as dg

from orchestration.ingestion.contracts import SYSTEMS, entities_for
from orchestration.ingestion.engine import IngestReport, ingest_real_data, ingest_system, load_pseudonymiser
from orchestration.resources import WarehouseResource
from orchestration.warehouse import scalar

GROUP = "ingestion"

SYSTEM_DESCRIPTIONS = {
    "irs": "Incident Recording System: one monthly CSV of incidents",
    "mobilising": "Mobilising system: per-appliance timings, monthly JSON lines",
    "hr": "HR system: staff, absence episodes and HR cases (XLSX; names dropped, staff numbers pseudonymised)",
    "competence": "Competence records per person and skill, with expiry",
    "prevention": "Home fire safety (Safe and Well) visits",
    "protection": "Fire safety audits under the risk-based inspection programme",
    "availability": "On-call appliance hours available per day",
    "safeguarding": "Safeguarding referrals made and received",
    "planner": "Annual Plan activities with quarterly status, and the deep-dive action log",
    "reference": "Station grounds, wards (with denominators and vintage) and appliances",
}


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
    rejected = [f"{o.file_name}: {o.message}" for o in report.failures]
    return {**totals, "rejected": dg.MetadataValue.md("\n".join(f"- {r}" for r in rejected) or "none")}


def build_system_asset(system: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", system])
    deps = [] if system == "reference" else [dg.AssetKey(["raw", "reference"])]
    tables = ", ".join(f"raw.{e.table}" for e in entities_for(system))

    @dg.asset(
        key=key,
        group_name=GROUP,
        deps=deps,
        kinds={"duckdb", "python"},
        description=f"{SYSTEM_DESCRIPTIONS[system]}. Loads {tables}.",
        check_specs=[dg.AssetCheckSpec("rows_reconcile", asset=key, blocking=True,
                                       description="rows_received = rows_loaded + rows_quarantined for every file")],
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings
        with warehouse.connect() as con:
            report = ingest_system(con, system, settings.landing_dir, load_pseudonymiser(settings.secrets_dir), context.run_id)
            check = reconciliation_check(key, report, con)
        context.log.info(f"{system}: {report.totals()}")
        yield dg.MaterializeResult(metadata=report_metadata(report))
        yield check
        # Rejected files fail the asset after the good files were committed, so one bad file
        # does not hold back a month's other data but still stops everything downstream.
        report.raise_for_failures()

    _ingest.__name__ = f"raw_{system}"
    return _ingest


SYSTEM_ASSETS = [build_system_asset(s) for s in SYSTEMS]

REAL_KEY = dg.AssetKey(["raw", "real_public_data"])


@dg.asset(
    key=REAL_KEY,
    group_name=GROUP,
    kinds={"duckdb", "python"},
    description=(
        "Real public data from GT_REAL_DATA_DIR: London Fire Brigade incidents and mobilisations "
        "(service LFB), Home Office FIRE1001 response times and fire stations, ONS population "
        "and the LAD to fire authority lookup."
    ),
    check_specs=[dg.AssetCheckSpec("rows_reconcile", asset=REAL_KEY, blocking=True)],
)
def raw_real_public_data(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    if settings.real_data_dir is None:
        if settings.require_real_data:
            raise FileNotFoundError("REQUIRE_REAL_DATA=1 but the real-data folder is absent (set GT_REAL_DATA_DIR)")
        context.log.warning("real public data folder not found: continuing with demo data only")
    with warehouse.connect() as con:
        report = ingest_real_data(con, settings.real_data_dir, load_pseudonymiser(settings.secrets_dir), context.run_id)
        check = reconciliation_check(REAL_KEY, report, con)
    yield dg.MaterializeResult(metadata=report_metadata(report))
    yield check
    report.raise_for_failures()


INGESTION_ASSETS = [*SYSTEM_ASSETS, raw_real_public_data]
