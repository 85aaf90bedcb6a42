"""Ingestion time per source system, and the bare DuckDB scan of the same files beside it.

For each system of the landing area under GT_DATA_DIR (``python -m orchestration.cli demo-data``
writes one service over five years): ``ingest_system`` into a fresh warehouse, the median of
``--repeats`` runs; then, in the same run, the time of ``read_landed`` over every CSV and JSON-lines
file (the readers alone) and of a bare DuckDB ``read_csv`` / ``read_json`` of the same files in one
scan, the floor a reader could reach. The readers' CPU time and the load average are noted too:
on a shared machine wall-clock times vary by half between runs, the readers' CPU time much less.
Prints one line per entity and writes JSON to bench/results/.

    GT_DATA_DIR=/tmp/g-data python -m bench.ingest_readers [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.ingestion.contracts import SYSTEMS, entities_for
from orchestration.ingestion.engine import ingest_system, landed_files, load_pseudonymiser
from orchestration.ingestion.readers import read_landed
from orchestration.settings import Settings
from orchestration.warehouse import connect


def _median_seconds(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    landing = settings.landing_dir
    key = load_pseudonymiser(Path(tempfile.mkdtemp()) / "secrets")
    rows = []
    for system in ("reference", *[s for s in SYSTEMS if s != "reference"]):

        def ingest(system: str = system) -> None:
            with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "warehouse.duckdb") as con:
                if system != "reference":  # other systems check codes against the reference data
                    ingest_system(con, "reference", landing, key)
                start = time.perf_counter()
                ingest_system(con, system, landing, key)
                ingest.seconds.append(time.perf_counter() - start)  # type: ignore[attr-defined]

        ingest.seconds = []  # type: ignore[attr-defined]
        for _ in range(args.repeats):
            ingest()
        ingest_s = statistics.median(ingest.seconds)  # type: ignore[attr-defined]
        for entity in entities_for(system):
            if entity.format not in ("csv", "jsonl"):
                continue
            paths = [f[0] for f in landed_files(landing, entity)]
            if not paths:
                continue
            read_all = lambda e=entity, p=paths: [read_landed(e, x) for x in p]  # noqa: E731
            readers_s = _median_seconds(read_all, args.repeats)
            readers_cpu_s = _median_seconds(read_all, args.repeats, clock=time.process_time)
            row = {
                "system": system,
                "entity": entity.table,
                "files": len(paths),
                "mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
                "ingest_system_s": round(ingest_s, 2),
                "readers_s": round(readers_s, 2),
                "readers_cpu_s": round(readers_cpu_s, 2),
                "load_average": round(os.getloadavg()[0], 1),
            }
            for name, sql in _duckdb_scans(entity.format, paths).items():
                row[name] = round(_median_seconds(lambda sql=sql: _run(sql), args.repeats), 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = Path(__file__).parent / "results" / "ingest_readers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    per_system = {r["system"]: r["ingest_system_s"] for r in rows}
    print(f"ingest_system, all systems: {sum(per_system.values()):.2f} s")
    for column in ("readers_s", "readers_cpu_s", *SCANS):
        print(f"{column}, all CSV and JSON-lines files: {sum(r.get(column, 0) for r in rows):.2f} s")


SCANS = ("duckdb_auto_count_s", "duckdb_fixed_count_s", "duckdb_fixed_values_s")


def _duckdb_scans(fmt: str, paths: list[Path]) -> dict[str, str]:
    """The bare DuckDB scans of ``paths`` in one query each, in an in-memory database.

    ``duckdb_auto_count_s``: ``read_csv(all_varchar, header, filename)`` / ``read_json``, as suggested,
    counting rows (the dialect and types detected per file). ``duckdb_fixed_count_s``: CSV with the
    dialect and columns given (no detection), counting rows: the scan alone. ``duckdb_fixed_values_s``:
    the same scan with every value fetched into Python, the least a reader that hands the engine
    ``str`` values could cost (no hashing, decoding, line numbers or frames yet).
    """
    listed = ", ".join(f"'{p}'" for p in paths)
    if fmt == "jsonl":
        return {"duckdb_auto_count_s": f"select count(*) from read_json([{listed}], format = 'newline_delimited')"}
    with paths[0].open(newline="", encoding="utf-8", errors="replace") as f:
        width = len(next(csv.reader(f), []))
    columns = "{" + ", ".join(f"'c{i}': 'varchar'" for i in range(width)) + "}"
    fixed = (
        f"read_csv([{listed}], auto_detect = false, header = false, skip = 1, columns = {columns}, "
        "delim = ',', quote = '\"', escape = '\"', filename = true, ignore_errors = true)"
    )
    auto = f"read_csv([{listed}], all_varchar = true, header = true, filename = true)"
    return {
        "duckdb_auto_count_s": f"select count(*) from {auto}",
        "duckdb_fixed_count_s": f"select count(*) from {fixed}",
        "duckdb_fixed_values_s": f"select * from {fixed}",
    }


def _run(sql: str) -> None:
    with duckdb.connect() as con:
        table = con.sql(sql).to_arrow_table()
        for column in table.columns:
            column.to_pylist()


if __name__ == "__main__":
    main()
