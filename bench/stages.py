"""The stages of a benchmark run, each a worker run in its own fresh process
(``python -m bench.run _worker STAGE SPEC_JSON RESULT_JSON``) with GT_DATA_DIR, DAGSTER_HOME, GT_AS_OF
and GT_REAL_DATA_DIR already in its environment. ``WORKERS`` names every stage; bench/run.py runs
them in order (``run_size``) and bench/report.py turns their results into the summary and table.

A stage returns a JSON-able dict of its figures; ``worker_main`` adds its own ``getrusage`` and
reports a failure as ``error`` rather than dying silently.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import shutil
import statistics
import tempfile
import time
import traceback
from pathlib import Path

from bench import PROCESS_START
from bench.sizes import month_label
from bench.stage_pipeline import w_pipeline
from bench.stage_scan import w_scan


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


_MONTHLY_FILE = re.compile(r"_(\d{4}-\d{2})(_r\d+)?\.[a-z]+$")


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
        "import_s": round(t_import - PROCESS_START, 3),
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
