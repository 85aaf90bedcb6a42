"""Command line used by the Makefile: demo data, the pipeline run, summaries and source status.

``python -m orchestration.cli pipeline`` runs the Dagster job in-process against a persistent
instance under ``data/dagster_home`` so runs also appear in the Dagster UI (``make ui``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestration.accounts.cli import add_users_commands
from orchestration.approvals.cli import add_approvals_commands
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
    # The map page's ward boundaries, at the default place (a configured file is the service's own).
    from orchestration.simulator.boundaries import write_ward_boundaries

    boundaries = settings.data_dir / "reference" / "ward_boundaries.geojson"
    wards = write_ward_boundaries(config, boundaries)
    print(f"synthetic ward boundaries (demo only, not real) for {wards} wards written to {boundaries}")
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

    from orchestration import run_log
    from orchestration.partitions import execute

    if settings.real_data_dir is None:
        if settings.require_real_data:
            print("error: REQUIRE_REAL_DATA=1 but no real-data folder (set GT_REAL_DATA_DIR)", file=sys.stderr)
            return 2
        print("real public data folder not found (set GT_REAL_DATA_DIR): continuing with the demo data only")
    dagster_home(settings)
    log_file = run_log.log_path(settings.data_dir / "logs")
    print(f"pipeline run: stages as they finish (seconds since the start); Dagster's event log in {log_file}")
    with run_log.run_logging(log_file) as (console, log):
        # Imported here so that the warnings loading the code location raises go to the log too.
        from orchestration.definitions import PIPELINE_JOB, build_definitions

        defs = build_definitions(settings)
        job = defs.resolve_job_def(job_name or PIPELINE_JOB)
        progress = run_log.RunProgress(
            console,
            ingestion_counts=lambda run_id, tables: run_log.ingestion_counts(settings.warehouse_path, run_id, tables),
            dbt_total=run_log.dbt_node_count(),
        )
        with dg.DagsterInstance.get() as instance:
            result = execute(job, instance, settings, full, loggers=run_log.run_loggers(progress, log))
    failed = [e for e in result.all_events if e.is_step_failure]
    print_summary(settings, run_id=result.run_id)
    print_locations(settings, log_file, result.run_id, published=result.success)
    for event in failed:
        print(f"step {event.step_key} failed: {run_log.root_cause(event)}", file=sys.stderr)
    return 0 if result.success else 1


def _table(header: list[str], rows: list[list]) -> list[str]:
    """Rows under a header, the first column left-aligned and numbers right-aligned."""
    cells = [header, *[[r[0], *(f"{v:,}" for v in r[1:])] for r in rows]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]
    return [
        "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]


def reconciliation(con, run_id: str | None = None) -> tuple[list[str], list[list]]:
    """Per system: files by outcome (whatever statuses the log holds: a loaded file with quarantined
    rows counted apart), and rows received, loaded and quarantined; this run's files only if
    ``run_id`` is given."""
    where, params = ("where run_id = ?", [run_id]) if run_id else ("", [])
    rows = con.execute(
        f"""
        select system,
               case when status = 'loaded' and rows_quarantined > 0 then 'part-quarantined' else status end,
               count(*), sum(rows_received), sum(rows_loaded), sum(rows_quarantined)
        from audit.ingestion_log {where} group by all
        """,
        params,
    ).fetchall()
    first = [s for s in ("loaded", "part-quarantined") if any(r[1] == s for r in rows)]
    statuses = first + sorted({r[1] for r in rows} - set(first))
    systems: dict[str, list] = {}
    for system, status, files, received, loaded, quarantined in rows:
        line = systems.setdefault(system, [system, 0] + [0] * len(statuses) + [0, 0, 0])
        line[1] += files
        line[2 + statuses.index(status)] += files
        for i, n in enumerate((received, loaded, quarantined)):
            line[2 + len(statuses) + i] += int(n)
    header = ["system", "files", *statuses, "rows received", "loaded", "quarantined"]
    return header, [systems[s] for s in sorted(systems)]


def not_loaded_files(con, run_id: str) -> list[tuple[str, str, str, str]]:
    """(status, system, file, reason) of each file of the run that was neither loaded nor skipped."""
    return con.execute(
        "select status, system, file_name, coalesce(message, '') from audit.ingestion_log "
        "where run_id = ? and status not in ('loaded', 'skipped') order by status, system, file_name",
        [run_id],
    ).fetchall()


def print_summary(settings: Settings, run_id: str | None = None) -> None:
    """The ingestion reconciliation per system (this run's files, then all time), then each file of
    the run that was refused or held, with its reason."""
    from orchestration.deliveries import pending_files
    from orchestration.warehouse import connect

    if not settings.warehouse_path.exists():
        print("no warehouse yet: nothing ingested")
        return
    with connect(settings.warehouse_path, read_only=True) as con:
        has_log = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'ingestion_log'"
        ).fetchall()[0][0]
        if not has_log:
            print("no ingestion log yet: nothing ingested")
            return
        held = [f for f in pending_files(con) if f.status == "held"]
        sections = [("all time", *reconciliation(con))]
        if run_id:
            sections.insert(0, (f"this run ({run_id[:8]})", *reconciliation(con, run_id)))
            unloaded = not_loaded_files(con, run_id)
    for title, header, rows in sections:
        print(f"\nfiles ingested, {title}:")
        print("\n".join("  " + line for line in _table(header, rows)) if rows else "  no new or changed files")
    if run_id:
        if unloaded:
            print(f"\nfiles refused or held in this run ({len(unloaded)}):")
            for status, system, file_name, reason in unloaded:
                print(f"  {status:<8} {system}: {file_name}: {reason}")
        else:
            print("\nno file was refused or held in this run")
    if held:
        print(f"\nheld files, not current until accepted ({len(held)}; python -m orchestration.cli deliveries list):")
        for f in held:
            print(f"  {f.file_name}: {f.message}")


def cmd_deliveries(settings: Settings, args: argparse.Namespace) -> int:
    """List held and refused files, or record a decision on a held one."""
    import duckdb

    from orchestration.deliveries import DecisionError, accept, dismiss, pending_files
    from orchestration.warehouse import connect

    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path}: nothing has been loaded", file=sys.stderr)
        return 2
    try:
        with connect(settings.warehouse_path, read_only=args.action == "list") as con:
            if args.action == "list":
                files = pending_files(con)
                if not files:
                    print("no held or refused files")
                for f in files:
                    label = "held" if f.status == "held" else "refused"
                    print(f"{label:<8} {f.file_name} (batch {f.batch_id}): {f.message}")
                return 0
            decide = accept if args.action == "accept" else dismiss
            print(decide(con, args.file, by=args.by, reason=args.reason))
            return 0
    except DecisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        print(
            f"error: the warehouse {settings.warehouse_path} is open in another process (a running pipeline?); "
            "try again when it has finished",
            file=sys.stderr,
        )
        return 3


def print_locations(settings: Settings, log_file: Path, run_id: str, published: bool) -> None:
    serving = settings.serving_path
    state = "published by this run" if published else "not replaced by this run"
    print(f"\napp:        make serve, then http://127.0.0.1:8501 (reads {serving}, {state})")
    print(f"event log:  {log_file} (every Dagster event and dbt's output)")
    print(f"Dagster UI: make ui, then http://127.0.0.1:3000/runs/{run_id}")


def cmd_sources_check(settings: Settings, args: argparse.Namespace) -> int:
    """A dry run of one extract through its service's mapping: prints coverage, writes nothing."""
    from orchestration.ingestion.dry_run import check_file
    from orchestration.ingestion.mapping import MappingError

    try:
        report = check_file(Path(args.file), args.service, args.system, args.entity, settings.mappings_dir)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 1 if report.error else 0


def add_sources_commands(sub: argparse._SubParsersAction) -> None:
    """``sources <action>``: one sub-parser per action, each setting ``run(settings, args)``."""
    sources = sub.add_parser("sources", help="a service's mappings, a dry run of an extract, and its readiness")
    actions = sources.add_subparsers(dest="action", required=True)
    status = actions.add_parser(
        "status", help="a service's readiness: deliveries, missing reference data and columns, KPIs it will lack"
    )
    status.add_argument("--service", required=True, help="service id, e.g. ESX")
    status.set_defaults(run=cmd_sources_status)
    check = actions.add_parser(
        "check", help="read a file through its service's mapping and print what would load (writes nothing)"
    )
    check.add_argument("file")
    check.add_argument("--service", required=True, help="service id, e.g. LFB (its mappings folder)")
    check.add_argument("--system", required=True, help="source system, e.g. irs")
    check.add_argument("--entity", default=None, help="the entity, where the system's mapping has several")
    check.set_defaults(run=cmd_sources_check)


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
    sub.add_parser("summary", help="print the ingestion reconciliation per system, all time")
    deliveries = sub.add_parser("deliveries", help="held and refused files; accept or reject a held re-delivery")
    actions = deliveries.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="held files (waiting for a decision) and refused files")
    for action, text in (
        ("accept", "make a held re-delivery current; the next close rebuilds every model (--full-refresh)"),
        ("reject", "dismiss a held re-delivery: the current delivery stays"),
    ):
        decision = actions.add_parser(action, help=text)
        decision.add_argument("file", help="the file's path under the landing area, as listed")
        decision.add_argument("--by", required=True, help="who decides")
        decision.add_argument("--reason", required=True, help="why")
    add_sources_commands(sub)
    add_users_commands(sub)
    add_approvals_commands(sub)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command in ("sources", "users", "approvals"):
        return args.run(settings, args)
    if args.command == "demo-data":
        return cmd_demo_data(settings, args.force)
    if args.command == "pipeline":
        return cmd_pipeline(settings, args.job, args.full)
    if args.command == "deliveries":
        return cmd_deliveries(settings, args)
    print_summary(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
