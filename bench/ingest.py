"""Ingestion alone: every source system's landed files into a fresh warehouse, then DuckDB's bare
read of the same CSV and JSON-lines files in the same run, so the ratio between them holds on a
shared machine. ``make bench`` measures the whole pipeline; this is the quick way to measure the
ingest stage at any size, including the national preset's extracts simulated once:

    .venv/bin/python -m orchestration.simulator --preset national --landing-dir data/national/landing
    .venv/bin/python -m bench.ingest --landing data/national/landing

Prints one line per system and the totals, and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from bench.stage_scan import SCAN_CONFIG, _scan_landed
from orchestration.ingestion.contracts import SYSTEMS
from orchestration.ingestion.engine import ingest_system, load_pseudonymiser
from orchestration.settings import duckdb_config
from orchestration.warehouse import connect


def measure(landing: Path, work: Path) -> dict:
    key = load_pseudonymiser(work / "secrets")
    systems: dict[str, dict] = {}
    started = time.perf_counter()
    with connect(work / "warehouse.duckdb") as con:
        # Reference first, as the pipeline's assets run: the others check their codes against it.
        for system in ("reference", *(s for s in SYSTEMS if s != "reference")):
            t = time.perf_counter()
            totals = ingest_system(con, system, landing, key).totals()
            systems[system] = {"seconds": round(time.perf_counter() - t, 2), **totals}
            seconds = systems[system]["seconds"]
            print(f"  {system:<14}{seconds:>8.1f} s  {totals['rows_received']:>12,} rows", flush=True)
    ingest_s = time.perf_counter() - started
    rows = sum(s["rows_received"] for s in systems.values())
    scratch = work / "scan.duckdb"
    with duckdb.connect(str(scratch), config={**duckdb_config(), **SCAN_CONFIG}) as con:
        bare = _scan_landed(con, landing)
    return {
        "landing": str(landing),
        "at": dt.datetime.now().isoformat(timespec="seconds"),
        "systems": systems,
        "ingest": {"seconds": round(ingest_s, 2), "rows": rows, "rows_per_s": round(rows / ingest_s)},
        "bare_duckdb_read": bare,
        "ratio_to_bare_duckdb": round(ingest_s / bare["seconds"], 1) if bare["seconds"] else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--landing", required=True, type=Path, help="a landing area (data/landing layout)")
    parser.add_argument("--work-dir", type=Path, default=None, help="where the scratch warehouse goes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        result = measure(args.landing.resolve(), Path(tmp))
    ing, bare = result["ingest"], result["bare_duckdb_read"]
    print(f"ingest: {ing['rows']:,} rows in {ing['seconds']:.1f} s = {ing['rows_per_s']:,} rows/s")
    print(
        f"bare DuckDB read of the landed CSV and JSON-lines files: {bare['rows']:,} rows in {bare['seconds']:.1f} s "
        f"= {bare['rows_per_s']:,} rows/s; ingest / bare read = {result['ratio_to_bare_duckdb']}x"
    )
    out = Path(__file__).parent / "results" / f"ingest_{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
