"""The ``scan`` stage: DuckDB's bare read of the landed files, the floor ingestion's throughput is
compared with.
"""

from __future__ import annotations

import time
from pathlib import Path

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
