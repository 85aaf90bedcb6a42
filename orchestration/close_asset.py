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
from orchestration.ingestion.engine import landed_files
from orchestration.partitions import CLOSE_KEY, MONTHLY, months_in_run, run_settings
from orchestration.resources import WarehouseResource

# One run per range of months is the point of the partitions; Dagster labels the parameter beta.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

MONTHLY_ENTITIES = tuple(e for e in ENTITIES if e.delivery == "monthly")


def landed_months(landing_dir: Path) -> dict[tuple[Entity, str], set[str]]:
    """(monthly entity, service id) → the months (YYYY-MM) with a landed file."""
    found: dict[tuple[Entity, str], set[str]] = defaultdict(set)
    for entity in MONTHLY_ENTITIES:
        for _, service_id, period, *_ in landed_files(landing_dir, entity):
            if period:  # a multi-month file (a mapping's "split") says its months by its rows
                found[entity, service_id].add(period)
    return found


def missing_deliveries(landed: dict[tuple[Entity, str], set[str]], first: dt.date, end: dt.date) -> list[str]:
    """``system/service/stem_YYYY-MM`` for each monthly extract a service has not delivered for a
    month in [first, end), counting only months after the service's first delivery."""
    missing = []
    for (entity, service), months in sorted(landed.items(), key=lambda item: (item[0][0].table, item[0][1])):
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
    landed = landed_months(settings.landing_dir)  # one walk of the landing area
    missing = missing_deliveries(landed, first, end)
    last_month = f"{end - dt.timedelta(days=1):%Y-%m}"
    services = {service for _, service in landed}
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
