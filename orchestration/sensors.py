"""A sensor that notices new or changed files in the landing area and runs ingestion."""


import hashlib
from pathlib import Path

import dagster as dg

from orchestration.partitions import close_month
from orchestration.settings import Settings


def landing_fingerprint(landing_dir: Path) -> str:
    """A digest of every landed file's path, size and mtime: changes when anything lands."""
    h = hashlib.sha256()
    if landing_dir.is_dir():
        for path in sorted(landing_dir.rglob("*")):
            if path.is_file() and not path.relative_to(landing_dir).parts[0].startswith("_"):
                stat = path.stat()
                h.update(f"{path.relative_to(landing_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()


def build_landing_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Runs the pipeline when new files land under data/landing/.")
    def landing_sensor(context: dg.SensorEvaluationContext):
        settings = Settings.from_env()
        fingerprint = landing_fingerprint(settings.landing_dir)
        if fingerprint == context.cursor:
            return dg.SkipReason("no new files in the landing area")
        context.update_cursor(fingerprint)
        # New files close the current reporting month; a re-delivered earlier month is
        # recomputed in the same run (its batches are new).
        return dg.RunRequest(run_key=fingerprint, partition_key=close_month(settings.as_of))

    return landing_sensor
