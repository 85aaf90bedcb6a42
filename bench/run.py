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

Code: this module runs the sizes and each size's stages in order (``run_size``); bench/stages.py
holds each stage's worker (``WORKERS``), bench/report.py the goals, the summary and the printed
table, bench/process.py the process-tree sampling, bench/sizes.py the sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.process import load_average, spawn, stage_env
from bench.report import GOALS, growth, print_growth, print_size, summarise
from bench.sizes import DEFAULT_AS_OF, Size, next_month
from bench.stages import worker_main

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"


# Two small sizes for the growth line, then the national preset: about 75 minutes on two cores
# (simulating the national extracts twice, for the build and the close, is 25 of them).
DEFAULT_SIZES = "1x1,1x5,national"


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
        "load_at_start": load_average(),
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
    report["machine"]["load_at_end"] = load_average()
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
