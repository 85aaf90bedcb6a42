"""The benchmark harness: the whole pipeline, a monthly close, the data-quality suites, the pages,
peak memory, and two baselines for ``rpt_kpi_monthly`` — at several sizes, in one go.

    python -m bench.run [--sizes 1x1,1x5,national] [--preset national] [--out bench/results]

A size is ``<services>x<years>`` (the simulator's ``--services`` and ``--years``; the demo roster
puts Essex first) or ``national`` (``--preset national``: every service in the roster, ten years —
about an hour on two cores; the default sizes end with it). For each size, in a scratch data directory:

1. ``simulate``   the landed extracts (timed, but not part of the pipeline figures);
2. ``pipeline``   the Dagster job from landed files to a published ``serving.duckdb`` with every
                  check, exactly as ``make pipeline`` runs it (in-process executor, persistent
                  instance under ``<data>/dagster_home``); phases from the run's step events:
                  ingest, raw DQ gate, dbt build, mart DQ gate, publish; plus start-up (imports,
                  definitions) and Dagster's own overhead (run time not inside any step);
3. ``scan``       the bare DuckDB read of the landed files: every landed CSV and JSON-lines file
                  (each system's files in one ``read_csv``/``read_json`` scan, as text, no contract,
                  no validation, no lineage), the floor that ingestion's throughput is compared
                  with; and the IRS CSVs and mobilising JSON lines typed as before;
4. ``baseline_*`` the hand-written DuckDB SQL script and the pandas implementation of three KPIs
                  (bench/baselines.py), each timed (best and median of ``--baseline-repeats``) and
                  checked equal to ``marts.rpt_kpi_monthly`` in ``serving.duckdb`` within 1e-9;
5. ``pages``      monthly snapshot and quarterly review, first and repeat render (bench/page_render);
6. ``close``      one more month: the simulator at ``as_of`` + 1 month (same seed) into a scratch
                  folder, only the new month's monthly extracts copied into the landing area, then
                  the same job with ``GT_AS_OF`` advanced; the baselines are re-checked after it;
7. ``dq``         the data-quality suites alone on the built warehouse: every raw suite over the
                  current batches (``check_all_raw``) and the mart suites (``check_marts``).

Every stage runs in its own Python process, so each starts cold and its peak memory is its own:
the parent samples the resident set size of the stage's whole process tree (the stage and its
dbt subprocess) every 0.2 s, and the stage reports ``getrusage`` maxima for itself and its
children. Load averages are recorded around every stage (another job may share the CPUs).

Prints a table per size and the growth across sizes; writes ``bench_<timestamp>.json`` to --out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

_T0 = time.perf_counter()  # process start, before any heavy import (the stage workers time from here)

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
# Two small sizes for the growth line, then the national preset: about 75 minutes on two cores
# (simulating the national extracts twice, for the build and the close, is 25 of them).
DEFAULT_SIZES = "1x1,1x5,national"
DEFAULT_AS_OF = dt.date(2026, 11, 1)
GOALS = {
    "pipeline_s": 60.0,
    "close_s": 10.0,
    "peak_rss_mib": 4096.0,
    "page_first_s": 1.5,
    "pipeline_vs_duckdb": 10.0,
    # Issue 18: ingestion at national scale, and one service's monthly ingest.
    "ingest_rows_per_s": 250_000.0,
    "national_ingest_s": 90.0,
    "close_ingest_s": 2.0,
}
# Brief's national figures: ~6M incidents, ~9M mobilisations, 10 years, 44 services.
NATIONAL_INCIDENTS = 6_000_000
PHASES = ("ingest", "raw_dq", "dbt_build", "mart_dq", "publish")
PHASE_NAMES = {
    "startup": "start-up (imports, definitions)",
    "ingest": "ingest (12 steps)",
    "raw_dq": "raw DQ gate",
    "dbt_build": "dbt build (models + tests)",
    "mart_dq": "mart DQ gate",
    "publish": "publish",
    "dagster_overhead": "Dagster overhead (outside steps)",
}


# ============================================================================ sizes
@dataclass(frozen=True)
class Size:
    services: int
    years: int
    preset: str = "demo"

    @property
    def label(self) -> str:
        return "national" if self.preset == "national" else f"{self.services}x{self.years}"

    @classmethod
    def parse(cls, text: str) -> Size:
        text = text.strip().lower()
        if text == "national":
            from orchestration.simulator import SimulatorConfig

            cfg = SimulatorConfig.national()
            return cls(cfg.services, cfg.years, "national")
        m = re.fullmatch(r"(\d+)x(\d+)", text)
        if not m:
            raise argparse.ArgumentTypeError(f"size {text!r} is not <services>x<years> or 'national'")
        return cls(int(m.group(1)), int(m.group(2)))


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_label(as_of: dt.date) -> str:
    """The last complete month before ``as_of`` as YYYY-MM (the month a close delivers)."""
    last = as_of.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


# ============================================================================ stage workers
# Each runs in a fresh process (``python -m bench.run _worker STAGE SPEC_JSON RESULT_JSON``) with
# GT_DATA_DIR, DAGSTER_HOME, GT_AS_OF and GT_REAL_DATA_DIR already in its environment.


def _rusage() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "maxrss_self_mib": round(own.ru_maxrss / 1024, 1),
        "maxrss_children_mib": round(kids.ru_maxrss / 1024, 1),
        "cpu_s": round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 2),
    }


HELD = "held_for_close"  # under the data dir: what the monthly close will land


def _config(spec: dict, as_of: dt.date, years: int | None = None):
    from orchestration.simulator import SimulatorConfig

    return SimulatorConfig(
        seed=spec["seed"], services=spec["services"], years=years or spec["years"], as_of=as_of, preset=spec["preset"]
    )


def w_simulate(spec: dict) -> dict:
    """The landed extracts at ``as_of`` and, with ``new_as_of``, what the monthly close will land.

    The simulator is not append-stable: it draws each system's whole period from one random stream,
    so a run at ``as_of`` + 1 month gives different earlier months (and incident numbers that can
    collide with the landed ones) — its earlier months are not byte-identical. So both are simulated
    up front: the monthly extracts up to ``as_of`` are taken from the later draw (the close then
    continues the same series, as a real source system would), the snapshot extracts dated at
    ``as_of`` (HR, competence, reference, deep-dive log, Annual Plan) from the draw at ``as_of``,
    and the later draw's new month and new snapshots are set aside under ``held_for_close/``.
    """
    import filecmp

    from orchestration.simulator import generate
    from orchestration.simulator.config import fy_of

    data_dir = Path(spec["data_dir"])
    landing = data_dir / "landing"
    as_of = dt.date.fromisoformat(spec["as_of"])
    t = time.perf_counter()
    config = _config(spec, as_of)
    summary = generate(config, landing)
    out = {
        "seconds": round(time.perf_counter() - t, 3),
        "files": summary["files_written"],
        "period": summary["period"],
        "services": [s["service_id"] for s in summary["services"]],
        "rows": summary["rows"],
        "rows_total": sum(n for ents in summary["rows"].values() for n in ents.values()),
    }
    if not spec.get("new_as_of"):
        return out
    new_as_of = dt.date.fromisoformat(spec["new_as_of"])
    start = config.period().start
    # Keep the same first month if the new month starts a financial year.
    years = fy_of(new_as_of.replace(day=1) - dt.timedelta(days=1)) - fy_of(start) + 1
    label = month_label(new_as_of)
    held = data_dir / HELD
    scratch = Path(tempfile.mkdtemp(prefix="next-", dir=data_dir))
    try:
        t = time.perf_counter()
        generate(_config(spec, new_as_of, years), scratch)
        replaced, identical, set_aside = 0, 0, []
        for path in sorted(scratch.rglob("*")):
            rel = path.relative_to(scratch)
            if not path.is_file() or rel.parts[0].startswith("_"):
                continue
            m = _MONTHLY_FILE.search(path.name)
            target = landing / rel
            if (m and m.group(1) == label) or (not m and not target.exists()):
                dest = held / rel  # the new month, or a snapshot extracted at the new date
                set_aside.append(str(rel))
            elif m:
                if target.exists() and filecmp.cmp(path, target, shallow=False):
                    identical += 1
                dest, replaced = target, replaced + 1
            else:
                continue  # a snapshot both draws deliver under one name (the Annual Plan): keep the first
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), dest)
        out["next_month"] = {
            "month": label,
            "seconds": round(time.perf_counter() - t, 3),
            "earlier_monthly_files_taken_from_the_later_draw": replaced,
            "of_which_byte_identical": identical,
            "files_held_for_close": set_aside,
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


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
    phases["startup"] = round(t_defs - _T0, 3)
    phases["dagster_overhead"] = round(job_s - sum(steps.values()), 3)
    ingested = _ingested_rows(settings.warehouse_path, result.run_id)
    return {
        "success": result.success,
        "run_id": result.run_id,
        "as_of": settings.as_of.isoformat(),
        "wall_s": round(t_job - _T0, 3),
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


# The bare reads have no row order to keep.
SCAN_CONFIG = {"preserve_insertion_order": False}


def w_scan(spec: dict) -> dict:
    """DuckDB's native readers over the landed IRS CSVs and mobilising JSON lines: no contract,
    no validation, no lineage — the floor for getting the two biggest sources off disk. The CSV
    dialect and column types are sniffed once from the first file and given to the reader (as a
    contract would), since DuckDB's sniffer costs about 0.2 s per file."""
    import duckdb

    landing = Path(spec["data_dir"]) / "landing"
    out: dict = {}
    from orchestration.settings import duckdb_config

    # A scratch database file, not memory, under the pipeline's memory cap: at national scale
    # (14M rows) an in-memory copy, and then a file at DuckDB's default limit (80% of RAM), ran out
    # of memory. Row order does not matter to a scan, so DuckDB need not keep it.
    scratch = Path(spec["data_dir"]) / "scan_scratch.duckdb"
    scratch.unlink(missing_ok=True)
    with duckdb.connect(str(scratch), config={**duckdb_config(), **SCAN_CONFIG}) as con:
        csvs = sorted(str(p) for p in landing.glob("irs/*/*.csv"))
        if csvs:
            t = time.perf_counter()
            (columns,) = con.execute("select Columns from sniff_csv(?)", [csvs[0]]).fetchall()[0]
            types = ", ".join(f"'{c['name']}': '{c['type']}'" for c in columns)
            con.execute(
                f"create table t_irs as select * from read_csv(?, header = true, auto_detect = false, "
                f"delim = ',', quote = '\"', columns = {{{types}}})",
                [csvs],
            )
            out["irs_csv"] = _scanned(con, "t_irs", len(csvs), time.perf_counter() - t)
        jsonl = sorted(str(p) for p in landing.glob("mobilising/*/*.jsonl"))
        if jsonl:
            t = time.perf_counter()
            con.execute(
                "create table t_mob as select * from read_json(?, format = 'newline_delimited', union_by_name = true)",
                [jsonl],
            )
            out["mobilising_jsonl"] = _scanned(con, "t_mob", len(jsonl), time.perf_counter() - t)
        landed = _scan_landed(con, landing)
    scratch.unlink(missing_ok=True)
    return {"readers": out, "landed": landed}


def _scan_landed(con, landing: Path) -> dict:
    """Every landed CSV and JSON-lines file read as text by DuckDB, one scan per system and file stem
    (one layout), its columns taken from the first file as a contract would give them (DuckDB's
    sniffer costs about 0.2 s a file): what ingestion's throughput is measured against. Workbooks
    and the planner's JSON documents are not included (DuckDB reads neither without an extension);
    they are a few thousand rows."""
    con.execute("set enable_progress_bar = false")  # not in a benchmark's output
    groups: dict[tuple[str, str], list[str]] = {}
    for path in sorted(landing.glob("*/*/*")):
        system = path.parent.parent.name
        if system.startswith("_") or path.suffix not in (".csv", ".jsonl") or not path.is_file():
            continue
        stem = path.name.rsplit("_", 2 if "_r" in path.stem.rsplit("_", 1)[-1] else 1)[0]
        groups.setdefault((system, f"{stem}{path.suffix}"), []).append(str(path))
    rows = files = 0
    t = time.perf_counter()
    for (_system, kind), paths in groups.items():
        if kind.endswith(".csv"):
            (names,) = con.execute("select Columns from sniff_csv(?)", [paths[0]]).fetchall()[0]
            columns = "{" + ", ".join(f"'{c['name']}': 'VARCHAR'" for c in names) + "}"
            sql = (
                "select count(*) from read_csv(?, header = true, auto_detect = false, delim = ',', "
                f"quote = '\"', escape = '\"', columns = {columns})"
            )
        else:
            names = [d[0] for d in con.execute("select * from read_json(?) limit 0", [paths[0]]).description]
            columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
            sql = f"select count(*) from read_json(?, format = 'newline_delimited', columns = {columns})"
        rows += con.execute(sql, [paths]).fetchall()[0][0]
        files += len(paths)
    seconds = time.perf_counter() - t
    return {"files": files, "rows": int(rows), "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds) if seconds else None}


def _scanned(con, table: str, files: int, seconds: float) -> dict:
    rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    return {
        "files": files,
        "rows": int(rows),
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
    }


def w_baseline(spec: dict) -> dict:
    import duckdb

    from bench.baselines import BASELINES, compare, mart_rows

    data_dir = Path(spec["data_dir"])
    as_of = dt.date.fromisoformat(spec["as_of"])
    fn = BASELINES[spec["baseline"]]
    times = []
    frame = None
    for _ in range(max(1, spec.get("repeats", 3))):
        t = time.perf_counter()
        # Open, compute, close each time: the connection (and its cache) is part of the cost.
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
            frame = fn(con, as_of)
        times.append(time.perf_counter() - t)
    with duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True) as con:
        mart = mart_rows(con)
    comparison = compare(frame, mart)
    return {
        "baseline": spec["baseline"],
        "as_of": spec["as_of"],
        "times_s": [round(t, 4) for t in times],
        "first_s": round(times[0], 4),
        "best_s": round(min(times), 4),
        "median_s": round(statistics.median(times), 4),
        "comparison": comparison.as_dict(),
    }


def w_pages(spec: dict) -> dict:
    from bench.page_render import run

    return run(repeats=spec.get("repeats", 3), write=False)


_MONTHLY_FILE = re.compile(r"_(\d{4}-\d{2})(_r\d+)?\.[a-z]+$")


def w_close_land(spec: dict) -> dict:
    """Land what the new month delivers (set aside by ``w_simulate``): each monthly system's file
    for the month and the snapshot extracts dated at its end. Checks no new incident number
    collides with one already loaded."""
    import duckdb

    data_dir = Path(spec["data_dir"])
    landing, held = data_dir / "landing", data_dir / HELD
    t = time.perf_counter()
    copied = []
    for path in sorted(held.rglob("*")):
        if path.is_file():
            rel = path.relative_to(held)
            target = landing / rel
            if target.exists():
                raise RuntimeError(f"{rel} is already in the landing area")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), target)
            copied.append(str(rel))
    land_s = time.perf_counter() - t
    if not copied:
        raise RuntimeError(f"nothing held for the close under {held}")
    new_irs = [str(landing / r) for r in copied if r.startswith("irs/")]
    collisions = None
    if new_irs and (data_dir / "warehouse.duckdb").exists():
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
            collisions = con.execute(
                "select count(*) from (select distinct service_id || '-' || incident_id as k "
                "from raw.irs__incidents) w join (select distinct "
                "regexp_extract(filename, '/irs/([^/]+)/', 1) || '-' || incident_id as k "
                "from read_csv(?, all_varchar = true, filename = true)) n using (k)",
                [new_irs],
            ).fetchall()[0][0]
    return {
        "month": month_label(dt.date.fromisoformat(spec["new_as_of"])),
        "land_s": round(land_s, 3),
        "files_landed": copied,
        "incident_id_collisions": None if collisions is None else int(collisions),
    }


def w_dq(spec: dict) -> dict:
    from expectations.pipeline import blocking_messages, check_all_raw, check_marts
    from expectations.store import ensure_dq_schema
    from orchestration.warehouse import connect

    data_dir = Path(spec["data_dir"])
    as_of = dt.date.fromisoformat(spec["as_of"])
    run_id = f"bench-dq-{dt.datetime.now():%Y%m%dT%H%M%S}"
    t_import = time.perf_counter()
    with connect(data_dir / "warehouse.duckdb") as con:
        ensure_dq_schema(con)
        t = time.perf_counter()
        raw = check_all_raw(con, run_id=run_id, as_of=as_of, data_dir=data_dir)
        raw_s = time.perf_counter() - t
        t = time.perf_counter()
        marts = check_marts(con, run_id=run_id, as_of=as_of, data_dir=data_dir)
        marts_s = time.perf_counter() - t

    def describe(results) -> dict:
        return {
            "suites": len(results),
            "checks": sum(len(r.checks) for r in results),
            "rows": sum(r.rows for r in results),
            "blocking_failures": len(blocking_messages(results)),
            "warnings": sum(len(r.warnings) for r in results),
        }

    return {
        "import_s": round(t_import - _T0, 3),
        "raw_s": round(raw_s, 3),
        "marts_s": round(marts_s, 3),
        "total_s": round(raw_s + marts_s, 3),
        "raw": describe(raw),
        "marts": describe(marts),
    }


WORKERS = {
    "simulate": w_simulate,
    "pipeline": w_pipeline,
    "scan": w_scan,
    "baseline": w_baseline,
    "pages": w_pages,
    "close_land": w_close_land,
    "dq": w_dq,
}


def worker_main(stage: str, spec_json: str, result_path: str) -> int:
    spec = json.loads(spec_json)
    try:
        result = WORKERS[stage](spec)
        status = 0
    except BaseException as exc:  # report the failure to the parent rather than die silently
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        status = 1
    result["rusage"] = _rusage()
    Path(result_path).write_text(json.dumps(result, default=str))
    return status


# ============================================================================ the parent
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree_rss_bytes(pid: int) -> int:
    kids = _children()
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(kids.get(p, []))
    return total


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(self.pid))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (all CPUs, /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def spawn(stage: str, spec: dict, env: dict, log_path: Path) -> dict:
    """Run one stage in a fresh process; return its result with wall time, peak RSS and load."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        result_path = Path(tmp.name)
    load_before = _load()
    busy_before = _busy_cpu_s()
    started = time.perf_counter()
    with open(log_path, "a") as log:
        log.write(f"\n===== {stage} {json.dumps(spec)}\n")
        log.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.run", "_worker", stage, json.dumps(spec), str(result_path)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        peak = sampler.stop()
    wall = time.perf_counter() - started
    busy_after = _busy_cpu_s()
    try:
        result = json.loads(result_path.read_text())
    except (OSError, json.JSONDecodeError):
        result = {"error": f"stage {stage} exited {code} without a result (see {log_path})"}
    finally:
        result_path.unlink(missing_ok=True)
    rusage = result.get("rusage", {})
    machine_busy = busy_after - busy_before if busy_after is not None and busy_before is not None else None
    result["process"] = {
        # CPU the stage used, and CPU other processes used on the machine meanwhile (noise).
        "cpu_s": rusage.get("cpu_s"),
        "other_cpu_s": round(max(0.0, machine_busy - rusage.get("cpu_s", 0)), 2) if machine_busy else None,
        "wall_s": round(wall, 3),
        "exit_code": code,
        "peak_rss_tree_mib": round(peak / 2**20, 1),
        "peak_rss_mib": round(
            max(peak / 2**20, rusage.get("maxrss_self_mib", 0), rusage.get("maxrss_children_mib", 0)), 1
        ),
        "load_before": load_before,
        "load_after": _load(),
    }
    return result


def stage_env(data_dir: Path, as_of: dt.date, seed: int, real_data: bool) -> dict:
    env = dict(os.environ)
    env.update(
        GT_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(data_dir / "dagster_home"),
        GT_AS_OF=as_of.isoformat(),
        GT_SEED=str(seed),
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        DAGSTER_DISABLE_TELEMETRY="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    if not real_data:
        env["GT_REAL_DATA_DIR"] = str(data_dir / "no-real-data")  # a folder that does not exist
    return env


def run_size(size: Size, args, work_root: Path, out_dir: Path, close: bool = True) -> dict:
    data_dir = work_root / size.label
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    close = close and "close" not in args.skip
    log_path = out_dir / f"bench_{args.stamp}_{size.label}.log"
    as_of, new_as_of = args.as_of, next_month(args.as_of)
    env = stage_env(data_dir, as_of, args.seed, args.real_data)
    env_close = stage_env(data_dir, new_as_of, args.seed, args.real_data)
    base = {
        "data_dir": str(data_dir),
        "seed": args.seed,
        "services": size.services,
        "years": size.years,
        "preset": size.preset,
        "as_of": as_of.isoformat(),
    }
    out: dict = {
        "size": size.label,
        "services": size.services,
        "years": size.years,
        "preset": size.preset,
        "as_of": as_of.isoformat(),
        "stages": {},
    }
    stages = out["stages"]

    def go(name: str, stage: str, spec: dict, stage_env: dict = env) -> dict:
        if name.split("_")[0] in args.skip or name in args.skip:
            return {}
        print(f"  [{size.label}] {name} ...", end="", flush=True)
        result = spawn(stage, spec, stage_env, log_path)
        stages[name] = result
        state = "error: " + result["error"].splitlines()[0] if "error" in result else "ok"
        if stage == "pipeline" and not result.get("success", False) and "error" not in result:
            state = "FAILED: " + "; ".join(result.get("failures", []))[:300]
        print(
            f" {result['process']['wall_s']:.1f} s, peak {result['process']['peak_rss_mib']:.0f} MiB, "
            f"load {result['process']['load_after'][0]} — {state}",
            flush=True,
        )
        return result

    if args.landing:
        # Extracts simulated earlier (e.g. the national preset, 13 minutes to write): hard links, no copy.
        t = time.perf_counter()
        shutil.copytree(args.landing, data_dir / "landing", copy_function=os.link)
        stages["simulate"] = {"reused": str(args.landing), "seconds": None, "link_s": round(time.perf_counter() - t, 2)}
        close = False  # the next month's extracts were not simulated
    else:
        go("simulate", "simulate", {**base, "new_as_of": new_as_of.isoformat() if close else None})
    profile = str(out_dir / f"profile_{args.stamp}_{size.label}_pipeline") if args.profile else None
    base["dagster_instance"] = args.dagster_instance
    built = go("pipeline", "pipeline", {**base, "keep_dbt_target": args.keep_dbt_target, "profile": profile})
    if built and not built.get("success"):
        out["error"] = "pipeline failed: " + "; ".join(built.get("failures", []) or [built.get("error", "")])
        return out
    go("scan", "scan", base)
    for name in ("duckdb_sql", "pandas"):
        go(f"baseline_{name}", "baseline", {**base, "baseline": name, "repeats": args.baseline_repeats})
    go("pages", "pages", {**base, "repeats": args.page_repeats})
    landed = go("close_land", "close_land", {**base, "new_as_of": new_as_of.isoformat()}) if close else {}
    if landed and "error" not in landed:
        closed = go(
            "close",
            "pipeline",
            {**base, "as_of": new_as_of.isoformat(), "keep_dbt_target": args.keep_dbt_target},
            env_close,
        )
        if closed.get("success"):
            for name in ("duckdb_sql", "pandas"):
                go(
                    f"close_baseline_{name}",
                    "baseline",
                    {**base, "as_of": new_as_of.isoformat(), "baseline": name, "repeats": 1},
                    env_close,
                )
    go(
        "dq",
        "dq",
        {**base, "as_of": new_as_of.isoformat() if "close" in stages else as_of.isoformat()},
        env_close if "close" in stages else env,
    )
    out["summary"] = summarise(out)
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


# ============================================================================ summaries
def _get(d: dict, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def summarise(size_result: dict) -> dict:
    s = size_result["stages"]
    pipe, close = s.get("pipeline", {}), s.get("close", {})
    duck, pand = s.get("baseline_duckdb_sql", {}), s.get("baseline_pandas", {})
    pages = _get(s, "pages", "pages", default={}) or {}
    # The memory goal is the platform's: the pipeline, the close, the DQ suites and the pages. The
    # baselines (pandas holds every table at once) and the scan lower bound are reported apart.
    apart = ("baseline_duckdb_sql", "baseline_pandas", "scan")
    peak = max(
        (st.get("process", {}).get("peak_rss_mib", 0) for name, st in s.items() if name not in apart), default=0
    )
    peak_apart = max((_get(s, name, "process", "peak_rss_mib", default=0) or 0 for name in apart), default=0)
    peak_pipeline = max(
        _get(pipe, "process", "peak_rss_mib", default=0), _get(close, "process", "peak_rss_mib", default=0)
    )
    pipeline_s = _get(pipe, "process", "wall_s")
    duck_best = duck.get("best_s")
    summary = {
        "raw_rows": _get(pipe, "ingested", "rows_received"),
        "incidents": _get(pipe, "ingested", "incidents_current"),
        "mobilisations": _get(pipe, "ingested", "mobilisations_current"),
        "simulate_s": _get(s, "simulate", "seconds"),
        "simulate_next_month_s": _get(s, "simulate", "next_month", "seconds"),
        "pipeline_s": pipeline_s,
        "pipeline_phases": pipe.get("phases"),
        "close_s": _get(close, "process", "wall_s"),
        "close_phases": close.get("phases"),
        "close_rows": _get(close, "ingested", "rows_received"),
        "dq_raw_s": _get(s, "dq", "raw_s"),
        "dq_marts_s": _get(s, "dq", "marts_s"),
        "pages": {p: {"first_s": v.get("first_s"), "repeat_s": v.get("repeat_median_s")} for p, v in pages.items()},
        "peak_rss_mib": peak,
        "peak_rss_pipeline_mib": peak_pipeline,
        "peak_rss_baselines_mib": peak_apart,
        "duckdb_sql_s": duck_best,
        "pandas_s": pand.get("best_s"),
        "baselines_equal": all(
            _get(s, k, "comparison", "equal", default=False)
            for k in ("baseline_duckdb_sql", "baseline_pandas")
            if k in s
        )
        if "baseline_duckdb_sql" in s or "baseline_pandas" in s
        else None,
        "baselines_equal_after_close": all(
            _get(s, k, "comparison", "equal", default=False)
            for k in ("close_baseline_duckdb_sql", "close_baseline_pandas")
            if k in s
        )
        if "close_baseline_duckdb_sql" in s
        else None,
        "mart_rows_compared": _get(duck, "comparison", "rows_mart"),
        "scan": _get(s, "scan", "readers"),
        "scan_landed": _get(s, "scan", "landed"),
    }
    ingest_s = _get(pipe, "phases", "ingest")
    landed = summary["scan_landed"] or {}
    if ingest_s and summary["raw_rows"]:
        summary["ingest"] = {
            "seconds": ingest_s,
            "rows": summary["raw_rows"],
            "rows_per_s": round(summary["raw_rows"] / ingest_s),
            "bare_duckdb_rows_per_s": landed.get("rows_per_s"),
            "ratio_to_bare_duckdb": round(ingest_s / landed["seconds"], 1) if landed.get("seconds") else None,
            "close_ingest_s": _get(close, "phases", "ingest"),
        }
    if pipeline_s and duck_best:
        summary["ratios"] = {
            "pipeline_vs_duckdb": round(pipeline_s / duck_best, 1),
            "dbt_build_vs_duckdb": round(_get(pipe, "phases", "dbt_build", default=0) / duck_best, 1),
            "pandas_vs_duckdb": round(pand["best_s"] / duck_best, 1) if pand.get("best_s") else None,
            "pipeline_vs_pandas": round(pipeline_s / pand["best_s"], 1) if pand.get("best_s") else None,
        }
    first_renders = [v.get("first_s") for p, v in pages.items() if p != "ingestion" and v.get("first_s")]
    summary["goals"] = {
        "pipeline_under_60s": _goal(pipeline_s, GOALS["pipeline_s"]),
        "close_under_10s": _goal(summary["close_s"], GOALS["close_s"]),
        "peak_under_4GiB": _goal(peak, GOALS["peak_rss_mib"]),
        "page_first_under_1_5s": _goal(max(first_renders) if first_renders else None, GOALS["page_first_s"]),
        "within_10x_duckdb": _goal(_get(summary, "ratios", "pipeline_vs_duckdb"), GOALS["pipeline_vs_duckdb"]),
        "ingest_250k_rows_per_s": _goal_at_least(_get(summary, "ingest", "rows_per_s"), GOALS["ingest_rows_per_s"]),
        "close_ingest_under_2s": _goal(_get(summary, "ingest", "close_ingest_s"), GOALS["close_ingest_s"]),
    }
    if size_result.get("preset") == "national":
        summary["goals"]["national_ingest_under_90s"] = _goal(ingest_s, GOALS["national_ingest_s"])
    return summary


def _goal(value, limit) -> str | None:
    if value is None:
        return None
    return "met" if value < limit else "missed"


def _goal_at_least(value, floor) -> str | None:
    if value is None:
        return None
    return "met" if value >= floor else "missed"


def _fmt(x, spec=".1f", none="—") -> str:
    return none if x is None else format(x, spec)


def print_size(result: dict) -> None:
    sm = result.get("summary")
    print()
    title = (
        f"== size {result['size']}: {result['services']} service(s) × {result['years']} year(s), "
        f"as of {result['as_of']}"
    )
    if not sm:
        print(title, "—", result.get("error", "no result"))
        return
    print(
        f"{title}; {_fmt(sm['raw_rows'], ',d')} raw rows ({_fmt(sm['incidents'], ',d')} incidents, "
        f"{_fmt(sm['mobilisations'], ',d')} mobilisations)"
    )
    s = result["stages"]
    rows: list[tuple[str, str, str, str]] = []
    if "simulate" in s:
        rows.append(("simulate (not in the pipeline total)", _fmt(sm["simulate_s"], ".2f"), "", ""))
        if sm.get("simulate_next_month_s") is not None:
            rows.append(("simulate the next month (for the close)", _fmt(sm["simulate_next_month_s"], ".2f"), "", ""))
    ph = sm.get("pipeline_phases") or {}
    for key in ("startup", *PHASES, "dagster_overhead"):
        if key in ph:
            rows.append(("  " + PHASE_NAMES[key], _fmt(ph[key], ".2f"), "", ""))
    rows.append(
        (
            "full pipeline, landed → published",
            _fmt(sm["pipeline_s"], ".2f"),
            "< 60 s",
            sm["goals"]["pipeline_under_60s"] or "",
        )
    )
    ov = _get(s, "pipeline", "dagster_overhead") or {}
    if ov:
        rows.append(
            (
                f"    of which {ov['planned_events']} 'planned' events at run creation",
                _fmt(ov["planned_events_s"], ".2f"),
                "",
                "",
            )
        )
    cp = sm.get("close_phases") or {}
    if cp:
        rows.append(
            (
                f"monthly close ({_fmt(sm['close_rows'], ',d')} rows landed)",
                _fmt(sm["close_s"], ".2f"),
                "< 10 s",
                sm["goals"]["close_under_10s"] or "",
            )
        )
        for key in ("startup", *PHASES, "dagster_overhead"):
            if key in cp:
                rows.append(("  " + PHASE_NAMES[key], _fmt(cp[key], ".2f"), "", ""))
    if sm.get("dq_raw_s") is not None:
        rows.append(("DQ suites alone: raw (all current batches)", _fmt(sm["dq_raw_s"], ".2f"), "", ""))
        rows.append(("DQ suites alone: marts", _fmt(sm["dq_marts_s"], ".2f"), "", ""))
    for page, v in sm["pages"].items():
        goal = "< 1.5 s" if page != "ingestion" else "(bare page)"
        met = _goal(v["first_s"], 1.5) if page != "ingestion" else ""
        rows.append(
            (
                f"page {page}: first / repeat",
                f"{_fmt(v['first_s'], '.2f')} / {_fmt(v['repeat_s'], '.2f')}",
                goal,
                met or "",
            )
        )
    rows.append(
        (
            "peak RSS, MiB (platform stages / pipeline runs)",
            f"{sm['peak_rss_mib']:.0f} / {sm['peak_rss_pipeline_mib']:.0f}",
            "< 4096",
            sm["goals"]["peak_under_4GiB"] or "",
        )
    )
    if sm.get("peak_rss_baselines_mib"):
        baselines = f"{sm['peak_rss_baselines_mib']:.0f}"
        rows.append(("peak RSS of the baselines, MiB (not the platform)", baselines, "", ""))
    scan = sm.get("scan") or {}
    for name, v in scan.items():
        rows.append((f"scan lower bound: {name} ({v['rows']:,} rows)", _fmt(v["seconds"], ".2f"), "", ""))
    ing = sm.get("ingest") or {}
    if ing:
        landed = sm.get("scan_landed") or {}
        goals = sm["goals"]
        rows.append(
            (
                f"ingest throughput, rows/s ({ing['rows']:,} rows in {ing['seconds']:.1f} s)",
                _fmt(ing["rows_per_s"], ",d"),
                "≥ 250,000",
                goals.get("ingest_250k_rows_per_s") or "",
            )
        )
        if landed:
            rows.append(
                (
                    f"bare DuckDB read of the landed files, rows/s ({landed['rows']:,} rows, {landed['files']} files)",
                    _fmt(landed["rows_per_s"], ",d"),
                    "",
                    "",
                )
            )
            rows.append(("ratio: ingest / bare DuckDB read", f"{_fmt(ing['ratio_to_bare_duckdb'])}×", "", ""))
        if "national_ingest_under_90s" in goals:
            met = goals["national_ingest_under_90s"] or ""
            rows.append(("national ingest", _fmt(ing["seconds"], ".1f"), "≤ 90 s", met))
        if ing.get("close_ingest_s") is not None:
            met = goals.get("close_ingest_under_2s") or ""
            rows.append(("monthly close: ingest", _fmt(ing["close_ingest_s"], ".2f"), "< 2 s", met))
    for key, label in (
        ("baseline_duckdb_sql", "baseline: hand-written DuckDB SQL (best)"),
        ("baseline_pandas", "baseline: pandas (best)"),
    ):
        if key in s:
            b = s[key]
            c = b.get("comparison", {})
            eq = (
                "equal"
                if c.get("equal")
                else f"NOT EQUAL ({c.get('missing_from_baseline')} missing, "
                f"{c.get('extra_in_baseline')} extra, {c.get('mismatched_values')} differ)"
            )
            rows.append((label, _fmt(b.get("best_s"), ".3f"), f"{c.get('rows_mart', 0):,} rows", eq))
    if sm.get("baselines_equal_after_close") is not None:
        rows.append(
            (
                "baselines equal to the mart after the close",
                "",
                "",
                "equal" if sm["baselines_equal_after_close"] else "NOT EQUAL",
            )
        )
    r = sm.get("ratios") or {}
    if r:
        rows.append(
            (
                "ratio: full pipeline / DuckDB baseline",
                f"{r['pipeline_vs_duckdb']:.0f}×",
                "≤ 10×",
                sm["goals"]["within_10x_duckdb"] or "",
            )
        )
        rows.append(("ratio: dbt build alone / DuckDB baseline", f"{r['dbt_build_vs_duckdb']:.0f}×", "", ""))
        rows.append(("ratio: pandas / DuckDB baseline", f"{_fmt(r['pandas_vs_duckdb'])}×", "", ""))
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'':<{width}}{'seconds':>14}  {'goal':<12}")
    for label, value, goal, met in rows:
        print(f"{label:<{width}}{value:>14}  {goal:<12}{met}")
    loads = [st["process"]["load_after"][0] for st in s.values() if "process" in st]
    other = sum(st["process"].get("other_cpu_s") or 0 for st in s.values() if "process" in st)
    walls = sum(st["process"]["wall_s"] for st in s.values() if "process" in st)
    if loads:
        print(
            f"machine: 1-minute load {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs (includes the "
            f"benchmark itself); other processes used {other:.0f} CPU-s over the {walls:.0f} s of stages "
            f"({other / walls / (os.cpu_count() or 1):.0%} of the machine)"
        )


def growth(results: list[dict]) -> dict:
    """Each figure per size, and a least-squares line (seconds = a + b × raw rows) over the sizes,
    extrapolated to national scale."""
    ok = [r for r in results if r.get("summary") and r["summary"].get("raw_rows")]
    if len(ok) < 2:
        return {}
    series: dict[str, list] = {}
    for r in ok:
        sm = r["summary"]
        figures = {
            **{f"pipeline.{k}": v for k, v in (sm.get("pipeline_phases") or {}).items() if k != "other"},
            "pipeline.total": sm["pipeline_s"],
            "close.total": sm["close_s"],
            "dq_alone.raw": sm["dq_raw_s"],
            "dq_alone.marts": sm["dq_marts_s"],
            "baseline.duckdb_sql": sm["duckdb_sql_s"],
            "baseline.pandas": sm["pandas_s"],
            "peak_rss_mib": sm["peak_rss_mib"],
        }
        for k, v in figures.items():
            series.setdefault(k, []).append(v)
    x = [r["summary"]["raw_rows"] for r in ok]
    incidents = [r["summary"]["incidents"] or 0 for r in ok]
    rows_per_incident = x[-1] / incidents[-1] if incidents[-1] else None
    national_rows = NATIONAL_INCIDENTS * rows_per_incident if rows_per_incident else None
    fits = {}
    for k, ys in series.items():
        pts = [(a, b) for a, b in zip(x, ys, strict=True) if b is not None]
        if len(pts) < 2:
            continue
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        sxx = sum((p[0] - mx) ** 2 for p in pts)
        slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0.0
        intercept = my - slope * mx
        fits[k] = {
            "fixed": round(intercept, 3),
            "per_100k_rows": round(slope * 1e5, 4),
            "national_estimate": round(intercept + slope * national_rows, 1) if national_rows else None,
        }
    return {
        "sizes": [r["size"] for r in ok],
        "raw_rows": x,
        "incidents": incidents,
        "series": series,
        "linear_fit": fits,
        "national_assumption": {
            "incidents": NATIONAL_INCIDENTS,
            "raw_rows_per_incident": round(rows_per_incident, 2) if rows_per_incident else None,
            "raw_rows": round(national_rows) if national_rows else None,
        },
    }


def print_growth(g: dict) -> None:
    if not g:
        return
    print()
    print("== growth across sizes (seconds; fit: seconds = fixed + per-100k-rows × raw rows / 100k)")
    head = "".join(f"{s:>11}" for s in g["sizes"])
    print(f"{'figure':<28}{head}{'fixed':>9}{'/100k rows':>12}{'national≈':>12}")
    print(f"{'raw rows':<28}" + "".join(f"{v:>11,}" for v in g["raw_rows"]))
    print(f"{'incidents':<28}" + "".join(f"{v:>11,}" for v in g["incidents"]))
    for k, ys in g["series"].items():
        fit = g["linear_fit"].get(k, {})
        cells = "".join(f"{_fmt(v, '.2f' if 'rss' not in k else '.0f'):>11}" for v in ys)
        print(
            f"{k:<28}{cells}{_fmt(fit.get('fixed'), '.1f'):>9}{_fmt(fit.get('per_100k_rows'), '.2f'):>12}"
            f"{_fmt(fit.get('national_estimate'), ',.0f'):>12}"
        )
    n = g["national_assumption"]
    if n.get("raw_rows"):
        print(
            f"national ≈ {n['incidents']:,} incidents × {n['raw_rows_per_incident']} raw rows per incident "
            f"= {n['raw_rows']:,} raw rows (a straight-line extrapolation, not a measurement)"
        )


# ============================================================================ main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sizes", default=None, help=f"comma-separated <services>x<years> or national (default {DEFAULT_SIZES})"
    )
    p.add_argument("--preset", choices=("national",), help="run the national preset (44 services × 10 years) only")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="where the JSON (and stage logs) go")
    p.add_argument("--work-dir", type=Path, default=None, help="scratch data directories (default: a temp dir)")
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--page-repeats", type=int, default=3)
    p.add_argument("--baseline-repeats", type=int, default=3)
    p.add_argument(
        "--dagster-instance",
        choices=("persistent", "ephemeral"),
        default="persistent",
        help="persistent: SQLite run storage under <data>/dagster_home, as make pipeline (default); "
        "ephemeral: in memory (leaves out the cost of writing run events)",
    )
    p.add_argument(
        "--close-at",
        choices=("largest", "all"),
        default="largest",
        help="run the monthly close after the last size only (default) or after every size",
    )
    p.add_argument("--skip", default="", help="comma-separated stages to skip: scan,baseline,pages,close,dq")
    p.add_argument(
        "--no-real-data",
        dest="real_data",
        action="store_false",
        help="hide ../shared/data/real from the pipeline (default: use it when present, as make pipeline does)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the full pipeline stage (times are then inflated); writes profile_*.txt/.prof to --out",
    )
    p.add_argument(
        "--landing",
        type=Path,
        default=None,
        help="use extracts simulated earlier (python -m orchestration.simulator ... --landing-dir DIR) instead of "
        "simulating; they must match the one size given and --as-of; the monthly close is skipped",
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch data directories")
    p.add_argument("--keep-dbt-target", action="store_true", help="keep dbt's per-run target folders")
    args = p.parse_args(argv)
    if args.preset and args.sizes:
        p.error("--preset national and --sizes are exclusive")
    if args.landing and (len((args.sizes or "").split(",")) > 1 or not args.landing.is_dir()):
        p.error("--landing needs an existing folder and exactly one size")
    args.sizes = (
        [Size.parse("national")] if args.preset else [Size.parse(s) for s in (args.sizes or DEFAULT_SIZES).split(",")]
    )
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    return args


def machine() -> dict:
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_at_start": _load(),
    }


def run(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    own_work = args.work_dir is None
    work_root = Path(tempfile.mkdtemp(prefix="gt-bench-")) if own_work else args.work_dir
    work_root.mkdir(parents=True, exist_ok=True)
    real_dir = Path(os.environ.get("GT_REAL_DATA_DIR") or REPO_ROOT.parent / "shared" / "data" / "real")
    report = {
        "benchmark": "golden_thread",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "sizes": [s.label for s in args.sizes],
            "as_of": args.as_of.isoformat(),
            "seed": args.seed,
            "real_data": bool(args.real_data and real_dir.is_dir()),
            "page_repeats": args.page_repeats,
            "baseline_repeats": args.baseline_repeats,
            "skipped": sorted(args.skip),
            "profile": args.profile,
            "close_at": args.close_at,
            "dagster_instance": args.dagster_instance,
        },
        "goals": GOALS,
        "sizes": [],
    }
    print(
        f"benchmark: sizes {', '.join(s.label for s in args.sizes)}; scratch {work_root}; "
        f"real public data {'included' if report['config']['real_data'] else 'excluded'}; "
        f"load {report['machine']['load_at_start']} on {os.cpu_count()} CPUs"
    )
    started = time.perf_counter()
    try:
        for i, size in enumerate(args.sizes):
            close = args.close_at == "all" or i == len(args.sizes) - 1
            result = run_size(size, args, work_root, args.out, close=close)
            report["sizes"].append(result)
            print_size(result)
    finally:
        if own_work and not args.keep:
            shutil.rmtree(work_root, ignore_errors=True)
    report["growth"] = growth(report["sizes"])
    print_growth(report["growth"])
    report["machine"]["load_at_end"] = _load()
    report["total_s"] = round(time.perf_counter() - started, 1)
    path = args.out / f"bench_{args.stamp}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten {path} in {report['total_s']:.0f} s")
    report["path"] = str(path)
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        return worker_main(*argv[1:4])
    report = run(argv)
    failed = [
        r["size"]
        for r in report["sizes"]
        if "error" in r
        or False
        in (r.get("summary", {}).get("baselines_equal"), r.get("summary", {}).get("baselines_equal_after_close"))
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
