"""Command line used by the Makefile: demo data, the pipeline run, summaries and source status.

``python -m orchestration.cli pipeline`` runs the Dagster job in-process against a persistent
instance under ``data/dagster_home`` so runs also appear in the Dagster UI (``make ui``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestration.settings import Settings


def landing_is_empty(landing_dir: Path) -> bool:
    if not landing_dir.is_dir():
        return True
    return not any(
        p.is_file() for d in landing_dir.iterdir() if d.is_dir() and not d.name.startswith("_") for p in d.rglob("*")
    )


def cmd_demo_data(settings: Settings, force: bool = False) -> int:
    from orchestration.simulator import SimulatorConfig, generate

    if not force and not landing_is_empty(settings.landing_dir):
        print(f"landing area {settings.landing_dir} already has files: not generating demo data")
        return 0
    config = SimulatorConfig(seed=settings.seed, as_of=settings.as_of, fault_rate=settings.fault_rate)
    summary = generate(config, settings.landing_dir)
    print(f"demo source data written to {settings.landing_dir}: {summary.get('files_written', '?')} files")
    return 0


def dagster_home(settings: Settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    dagster_yaml = home / "dagster.yaml"
    if not dagster_yaml.exists():
        dagster_yaml.write_text("telemetry:\n  enabled: false\n")
    return home


def cmd_pipeline(settings: Settings, job_name: str | None = None, full: bool | None = None) -> int:
    import dagster as dg

    from orchestration.definitions import PIPELINE_JOB, build_definitions
    from orchestration.partitions import execute

    if settings.real_data_dir is None:
        if settings.require_real_data:
            print("error: REQUIRE_REAL_DATA=1 but no real-data folder (set GT_REAL_DATA_DIR)", file=sys.stderr)
            return 2
        print("real public data folder not found (set GT_REAL_DATA_DIR): continuing with the demo data only")
    dagster_home(settings)
    defs = build_definitions(settings)
    job = defs.resolve_job_def(job_name or PIPELINE_JOB)
    with dg.DagsterInstance.get() as instance:
        result = execute(job, instance, settings, full)
    failed = [e for e in result.all_events if e.is_step_failure]
    for event in failed:
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause  # the root cause, not Dagster's wrapper
        print(f"step {event.step_key} failed: {error.message.strip() if error else ''}", file=sys.stderr)
    print_summary(settings)
    return 0 if result.success else 1


def print_summary(settings: Settings) -> None:
    from orchestration.warehouse import connect

    if not settings.warehouse_path.exists():
        return
    with connect(settings.warehouse_path, read_only=True) as con:
        rows = con.execute(
            """
            select system, count(*) files, sum(rows_received), sum(rows_loaded), sum(rows_quarantined),
                   count(*) filter (where status = 'rejected')
            from audit.ingestion_log group by system order by system
            """
        ).fetchall()
    print(f"{'system':<14}{'files':>7}{'received':>11}{'loaded':>11}{'quarantined':>13}{'rejected':>10}")
    for r in rows:
        print(f"{r[0]:<14}{r[1]:>7}{r[2]:>11}{r[3]:>11}{r[4]:>13}{r[5]:>10}")


def add_sources_commands(sub: argparse._SubParsersAction) -> None:
    """``sources <action>``: one sub-parser per action, each setting ``run(settings, args)``."""
    sources = sub.add_parser("sources", help="what each service's sources have delivered and lack")
    actions = sources.add_subparsers(dest="action", required=True)
    status = actions.add_parser(
        "status", help="a service's readiness: deliveries, missing reference data and columns, KPIs it will lack"
    )
    status.add_argument("--service", required=True, help="service id, e.g. ESX")
    status.set_defaults(run=cmd_sources_status)


def cmd_sources_status(settings: Settings, args: argparse.Namespace) -> int:
    from orchestration.sources_status import print_status

    return print_status(settings, args.service)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo-data", help="write simulated source extracts if the landing area is empty")
    demo.add_argument("--force", action="store_true", help="generate even if files exist")
    run = sub.add_parser("pipeline", help="run the whole pipeline in-process; non-zero exit on failure")
    run.add_argument("--job", default=None)
    run.add_argument(
        "--full",
        action="store_true",
        default=None,
        help="run every month up to GT_AS_OF's close (the default only when there is no warehouse yet); "
        "otherwise the run closes the last complete month before GT_AS_OF (and any re-delivered month)",
    )
    sub.add_parser("summary", help="print the ingestion reconciliation per system")
    add_sources_commands(sub)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "sources":
        return args.run(settings, args)
    if args.command == "demo-data":
        return cmd_demo_data(settings, args.force)
    if args.command == "pipeline":
        return cmd_pipeline(settings, args.job, args.full)
    print_summary(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
