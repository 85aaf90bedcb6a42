"""The ``pipeline`` stage (also the ``close``): the Dagster job from landed files to a published
serving.duckdb, timed by phase from the run's step events, with dbt's own timings and the rows
ingested.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

from bench import PROCESS_START

# The pipeline's phases, in run order; each step of the job belongs to one (``_phase_of``).
PHASES = ("ingest", "raw_dq", "dbt_build", "mart_dq", "publish")


def _phase_of(step_key: str) -> str:
    if step_key.startswith("ingest_") or step_key.startswith("raw__") or step_key.startswith("close__"):
        return "ingest"
    return {
        "quality__raw_batches_validated": "raw_dq",
        "golden_thread_dbt": "dbt_build",
        "quality__marts_validated": "mart_dq",
        "serving__serving_database": "publish",
    }.get(step_key, "other")


def _dbt_summary(run_id: str, keep: bool) -> dict | None:
    from orchestration.dbt import DBT_PROJECT_DIR

    found = sorted((DBT_PROJECT_DIR / "target").glob(f"golden_thread_dbt-{run_id[:7]}-*/run_results.json"))
    if not found:
        return None
    results = json.loads(found[-1].read_text())
    nodes = results["results"]
    by_type: dict[str, dict] = {}
    for node in nodes:
        kind = node["unique_id"].split(".")[0]
        entry = by_type.setdefault(kind, {"count": 0, "seconds": 0.0})
        entry["count"] += 1
        entry["seconds"] = round(entry["seconds"] + node["execution_time"], 3)
    slowest = sorted(nodes, key=lambda n: -n["execution_time"])[:12]
    tests = [n for n in nodes if n["unique_id"].startswith("test.")]
    slowest_tests = sorted(tests, key=lambda n: -n["execution_time"])[:12]
    summary = {
        "elapsed_s": round(results.get("elapsed_time", 0.0), 3),
        "nodes": len(nodes),
        "node_seconds": round(sum(n["execution_time"] for n in nodes), 3),
        "by_type": by_type,
        "slowest": [{"node": n["unique_id"].split(".", 2)[-1], "s": round(n["execution_time"], 3)} for n in slowest],
        "slowest_tests": [
            {"node": n["unique_id"].split(".", 2)[-1], "s": round(n["execution_time"], 3)} for n in slowest_tests
        ],
        "not_passed": [n["unique_id"] for n in nodes if n["status"] not in ("success", "pass", "warn", "no-op")],
        "phase_seconds": _dbt_timing(nodes),
        **_dbt_sql_time(found[-1].parent),
    }
    if not keep:
        shutil.rmtree(found[-1].parent, ignore_errors=True)
    return summary


def _dbt_timing(nodes: list[dict]) -> dict:
    """dbt's own split of node time: compiling (Jinja, refs) and executing (SQL and adapter calls)."""
    totals: dict[str, float] = {}
    for node in nodes:
        for t in node.get("timing", []):
            try:
                seconds = (
                    dt.datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00"))
                    - dt.datetime.fromisoformat(t["started_at"].replace("Z", "+00:00"))
                ).total_seconds()
            except (KeyError, TypeError, ValueError):
                continue
            totals[t["name"]] = round(totals.get(t["name"], 0.0) + seconds, 3)
    return totals


def _dbt_sql_time(target: Path) -> dict:
    """Time DuckDB spent in the SQL statements dbt sent (``SQLQueryStatus`` in dbt's JSON debug log),
    against dbt's whole invocation: the rest is dbt itself."""
    queries, seconds, first, last = 0, 0.0, None, None
    for log in sorted(target.glob("dbt.log*"), reverse=True):  # dbt.log.1 is older than dbt.log
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                if first is None or '"SQLQueryStatus"' in line:
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    first = first or event.get("info", {}).get("ts")
                    if event.get("info", {}).get("name") == "SQLQueryStatus":
                        queries += 1
                        seconds += float(event.get("data", {}).get("elapsed") or 0.0)
                last = line
    span = None
    try:
        end = json.loads(last)["info"]["ts"] if last else None
        if first and end:
            span = (
                dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
                - dt.datetime.fromisoformat(first.replace("Z", "+00:00"))
            ).total_seconds()
    except (json.JSONDecodeError, KeyError, ValueError):
        pass
    return {
        "sql_statements": queries,
        "sql_seconds": round(seconds, 3),
        "log_span_s": round(span, 3) if span is not None else None,
    }


def w_pipeline(spec: dict) -> dict:
    import dagster as dg

    from orchestration.cli import dagster_home
    from orchestration.definitions import PIPELINE_JOB, build_definitions
    from orchestration.partitions import execute
    from orchestration.settings import Settings

    settings = Settings.from_env()
    dagster_home(settings)
    defs = build_definitions(settings)
    job = defs.resolve_job_def(PIPELINE_JOB)
    t_defs = time.perf_counter()
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    wall_defs = time.time()
    ephemeral = spec.get("dagster_instance") == "ephemeral"
    with dg.DagsterInstance.ephemeral() if ephemeral else dg.DagsterInstance.get() as instance:
        result = execute(job, instance, settings)
        t_job = time.perf_counter()
        wall_job = time.time()
        logs = instance.all_logs(result.run_id)
    if profiler is not None:
        profiler.disable()
        _write_profile(profiler, Path(spec["profile"]))
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    failures = []
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            steps[event.step_key] = round(entry.timestamp - starts.get(event.step_key, entry.timestamp), 3)
            if event.event_type_value == "STEP_FAILURE":
                error = event.step_failure_data.error
                while error is not None and error.cause is not None:
                    error = error.cause
                failures.append(f"{event.step_key}: {(error.message.strip() if error else '')[:2000]}")
    overhead = _overhead(logs, wall_defs, wall_job)
    phases = {p: 0.0 for p in (*PHASES, "other")}
    for key, seconds in steps.items():
        phases[_phase_of(key)] += seconds
    job_s = t_job - t_defs
    phases = {k: round(v, 3) for k, v in phases.items()}
    phases["startup"] = round(t_defs - PROCESS_START, 3)
    phases["dagster_overhead"] = round(job_s - sum(steps.values()), 3)
    ingested = _ingested_rows(settings.warehouse_path, result.run_id)
    return {
        "success": result.success,
        "run_id": result.run_id,
        "as_of": settings.as_of.isoformat(),
        "wall_s": round(t_job - PROCESS_START, 3),
        "job_s": round(job_s, 3),
        "phases": phases,
        "steps": steps,
        "failures": failures,
        "dagster_overhead": overhead,
        "dbt": _dbt_summary(result.run_id, spec.get("keep_dbt_target", False)),
        "ingested": ingested,
        "profiled": bool(profiler),
    }


def _overhead(logs, wall_defs: float, wall_job: float) -> dict:
    """Where the run's time outside its steps goes: before the first event, the 'planned' events
    Dagster writes when it creates the run (one per asset and per asset check), between steps,
    and after the last event."""
    if not logs:
        return {}
    planned = [e for e in logs if e.dagster_event is not None and e.dagster_event.event_type_value.endswith("_PLANNED")]
    marks = [
        (e.timestamp, e.dagster_event.event_type_value)
        for e in logs
        if e.dagster_event is not None
        and e.dagster_event.event_type_value
        in ("PIPELINE_START", "RUN_START", "STEP_START", "STEP_SUCCESS", "STEP_FAILURE")
    ]
    start = next((t for t, kind in marks if kind in ("PIPELINE_START", "RUN_START")), logs[0].timestamp)
    between = 0.0
    last_end = None
    for t, kind in marks:
        if kind == "STEP_START" and last_end is not None:
            between += t - last_end
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            last_end = t
    return {
        "before_first_event_s": round(logs[0].timestamp - wall_defs, 3),
        "planned_events": len(planned),
        "planned_events_s": round(start - logs[0].timestamp, 3),
        "between_steps_s": round(between, 3),
        "after_last_step_s": round(wall_job - (last_end or logs[-1].timestamp), 3),
    }


def _ingested_rows(warehouse: Path, run_id: str) -> dict:
    import duckdb

    if not warehouse.exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select system, count(*), sum(rows_received), sum(rows_loaded), sum(rows_quarantined) "
            "from audit.ingestion_log where run_id = ? group by system order by system",
            [run_id],
        ).fetchall()
        current = {
            table: con.execute(f"select count(*) from raw_current.{table}").fetchall()[0][0]
            for table in ("irs__incidents", "mobilising__mobilisations")
        }
    systems = {
        r[0]: {"files": r[1], "received": int(r[2]), "loaded": int(r[3]), "quarantined": int(r[4])} for r in rows
    }
    return {
        "systems": systems,
        "files": sum(s["files"] for s in systems.values()),
        "rows_received": sum(s["received"] for s in systems.values()),
        "incidents_current": int(current["irs__incidents"]),
        "mobilisations_current": int(current["mobilising__mobilisations"]),
    }


def _write_profile(profiler, path: Path) -> None:
    import io
    import pstats

    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path.with_suffix(".prof")))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write("==== by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(40)
    out.write("==== by own time\n")
    stats.sort_stats("tottime").print_stats(40)
    path.with_suffix(".txt").write_text(out.getvalue())
