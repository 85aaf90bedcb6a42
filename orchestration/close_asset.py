"""The monthly close: the one monthly-partitioned asset, first in every pipeline run.

For each month the run closes it records what has landed (files per system and service) and
checks, without blocking, that every service that delivers a monthly extract has delivered this
month's: a missing extract is a warning in the run and in the Dagster UI, since the month's KPIs
will be short until it arrives (as a late delivery, which the next run picks up).
"""

import datetime as dt
import warnings
from collections import defaultdict
from pathlib import Path

import dagster as dg

from orchestration.ingestion.contracts import ENTITIES, Entity
from orchestration.ingestion.readers import parse_file_name
from orchestration.partitions import CLOSE_KEY, MONTHLY, months_in_run, run_settings
from orchestration.resources import WarehouseResource

# One run per range of months is the point of the partitions; Dagster labels the parameter beta.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

MONTHLY_ENTITIES = tuple(e for e in ENTITIES if e.delivery == "monthly")


def landed_months(landing_dir: Path, entity: Entity) -> dict[str, set[str]]:
    """Service id → the months (YYYY-MM) with a landed file for ``entity``."""
    found: dict[str, set[str]] = defaultdict(set)
    base = landing_dir / entity.system
    if base.is_dir():
        for service_dir in base.iterdir():
            if service_dir.is_dir():
                for path in service_dir.iterdir():
                    parsed = parse_file_name(entity, path.name)
                    if parsed:
                        found[service_dir.name].add(parsed[0])
    return found


def missing_deliveries(landing_dir: Path, first: dt.date, end: dt.date) -> list[str]:
    """``system/service/stem_YYYY-MM`` for each monthly extract a service has not delivered for a
    month in [first, end), counting only months after the service's first delivery."""
    missing = []
    for entity in MONTHLY_ENTITIES:
        for service, months in sorted(landed_months(landing_dir, entity).items()):
            day = max(first, dt.date.fromisoformat(min(months) + "-01"))
            while day < end:
                label = f"{day:%Y-%m}"
                if label not in months:
                    missing.append(f"{entity.system}/{service}/{entity.stem}_{label}")
                day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return missing


@dg.asset(
    key=CLOSE_KEY,
    group_name="ingestion",
    partitions_def=MONTHLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"python"},
    description=(
        "The months a run closes (its partitions): what has landed for them, and a warning for any "
        "monthly extract a service has not delivered. Everything downstream reads the cut-off from it."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "monthly_extracts_delivered",
            asset=CLOSE_KEY,
            description="Every service that delivers a monthly extract has delivered it for the months closed.",
        )
    ],
)
def monthly_deliveries(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = run_settings(context, warehouse.settings)
    months = months_in_run(context)
    first, end = months or (settings.as_of.replace(day=1) - dt.timedelta(days=1), settings.as_of)
    first = first.replace(day=1)
    missing = missing_deliveries(settings.landing_dir, first, end)
    last_month = f"{end - dt.timedelta(days=1):%Y-%m}"
    services = sorted({s for e in MONTHLY_ENTITIES for s in landed_months(settings.landing_dir, e)})
    context.log.info(f"closing {first:%Y-%m} to {last_month} (reporting cut-off {settings.as_of})")
    yield dg.MaterializeResult(
        metadata={
            "first_month": f"{first:%Y-%m}",
            "last_month": last_month,
            "as_of": settings.as_of.isoformat(),
            "services_delivering": len(services),
            "missing_monthly_extracts": len(missing),
        }
    )
    yield dg.AssetCheckResult(
        asset_key=CLOSE_KEY,
        check_name="monthly_extracts_delivered",
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        description=("Not yet delivered: " + ", ".join(missing[:20]) + (" …" if len(missing) > 20 else ""))
        if missing
        else None,
        metadata={"missing": len(missing)},
    )
