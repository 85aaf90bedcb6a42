"""Monthly partitions: the pipeline job is partitioned by reporting month.

One asset, ``close/monthly_deliveries``, is partitioned by month: it records, for each month a run
closes, which source files have landed, and warns about missing deliveries. Everything downstream
(ingestion, the gates, dbt, publish) is unpartitioned and reads the run's months from its tags:
the range's end fixes the reporting cut-off (``as_of`` is the first day after it) and its start
tells dbt which months to recompute even if no new data arrived for them. Months that a run's new
batches touch (a re-delivered earlier month) are recomputed whatever the range: the incremental
models find them from the batch ids (dbt_project/macros/incremental_months.sql).

Why not partition every asset: Dagster records one event per asset, per asset check and per
partition, so a first build over ten years (about 120 months × some 800 assets and checks) writes
about 100,000 events before any work is done. Measured here: 390 MB of event log and a stalled
run for one year of data. One partitioned asset gives the month-by-month status, re-runs and
backfills (``BackfillPolicy.single_run``: a range of months in one run) at a cost of one event
per month.
"""

import dataclasses
import datetime as dt
from collections.abc import Mapping

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orchestration.settings import Settings

# The earliest month the platform reports: London Fire Brigade's public incident records start in
# January 2009. ``end_offset=1`` keeps the current month addressable, so a reporting date set ahead
# of the clock (GT_AS_OF, as the simulator and the benchmark do) still has its partition; which month
# a close covers is decided from ``as_of`` (``close_month``), never from the clock.
FIRST_MONTH = "2009-01-01"
MONTHLY = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, end_offset=1)
CLOSE_KEY = dg.AssetKey(["close", "monthly_deliveries"])


def close_month(as_of: dt.date) -> str:
    """The partition key of the last complete month before ``as_of``."""
    last = as_of.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1).isoformat()


def months_from_tags(tags: dict[str, str]) -> tuple[dt.date, dt.date] | None:
    """A run's months as [first day of its first month, first day after its last), or None for a
    run launched without a partition (which falls back to ``GT_AS_OF``)."""
    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
    if not first or not last:
        return None
    start = MONTHLY.time_window_for_partition_key(first).start.date()
    end = MONTHLY.time_window_for_partition_key(last).end.date()
    return start, end


def months_in_run(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date] | None:
    return months_from_tags(context.run.tags)


def run_settings(context: dg.AssetExecutionContext, settings: Settings) -> Settings:
    """``settings`` with the reporting cut-off taken from the run's months."""
    months = months_in_run(context)
    return dataclasses.replace(settings, as_of=months[1]) if months else settings


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over the partition keys ``first``..``last`` (inclusive)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def run_tags(as_of: dt.date, full: bool) -> dict[str, str]:
    """A full build covers every month up to the one ``as_of`` closes; a close covers that month."""
    last = close_month(as_of)
    return range_tags(FIRST_MONTH if full else last, last)


def execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    settings: Settings,
    full: bool | None = None,
    loggers: Mapping[str, dg.LoggerDefinition] | None = None,
):
    """Run ``job`` in-process for the months ``settings.as_of`` closes: every month up to it when
    ``full`` (by default, when there is no warehouse yet), else that month alone. ``loggers``, if
    given, replace Dagster's console logger (see orchestration/run_log.py)."""
    if full is None:
        full = not settings.warehouse_path.exists()
    tags = run_tags(settings.as_of, full) if job.partitions_def is not None else None
    run_config = None
    if loggers:
        job = job.with_logger_defs(loggers)
        run_config = {"loggers": {name: {} for name in loggers}}
    return job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False, tags=tags)
