"""``make dq-report``: inject faults of every class, run ingestion and the raw data-quality
suites on them, and print what was caught, by fault class, against the simulator's manifest.

Runs in a scratch directory (never the real data directory) so it can be run at any time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

import duckdb

from orchestration.ingestion.contracts import SYSTEMS
from orchestration.ingestion.engine import ingest_system, load_pseudonymiser
from orchestration.ingestion.oracle import detect, detection_table, false_positives, load_manifest, render
from orchestration.settings import Settings
from orchestration.warehouse import connect


def run(workdir: Path, fault_rate: float, years: int, seed: int) -> tuple[str, int]:
    from expectations.pipeline import blocking_messages, check_all_raw
    from orchestration.simulator import SimulatorConfig, generate

    settings = Settings.from_env()
    landing = workdir / "landing"
    generate(SimulatorConfig(seed=seed, years=years, fault_rate=fault_rate, as_of=settings.as_of), landing)
    key = load_pseudonymiser(workdir / "secrets")
    run_id = uuid.uuid4().hex
    with connect(workdir / "warehouse.duckdb") as con:
        for system in ("reference", *[s for s in SYSTEMS if s != "reference"]):
            ingest_system(con, system, landing, key, run_id)
        results = check_all_raw(con, run_id=run_id, as_of=settings.as_of)
    manifest = load_manifest(landing)
    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as con:
        detected = detect(con, manifest)
        unexplained = false_positives(con, manifest)
        flags = con.execute("select distinct _source_file, _source_row from audit.dq_record_flags").fetchall()
    named = {(f, int(r)) for f, r in zip(manifest.file, manifest.row, strict=True) if r == r}
    consequential = sum((f, r) not in named for f, r in flags)
    table = detection_table(detected)
    lines = [
        f"fault rate {fault_rate}, {years} year(s), seed {seed}: {len(manifest)} faults injected",
        render(table),
        f"rows quarantined or flagged that the manifest does not explain: {len(unexplained)}",
        f"records flagged by the raw suites: {len(flags)}, of which {consequential} are not faults themselves"
        " but linked"
        " to a refused record (e.g. a refused staff row's absences, a refused mobilisation's incident);"
        f" blocking failures: {len(blocking_messages(results))}",
    ]
    missed = int(table.missed.sum())
    return "\n".join(lines), missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.dq_report", description=__doc__)
    parser.add_argument("--fault-rate", type=float, default=None, help="default GT_FAULT_RATE, else 0.01")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    rate = args.fault_rate if args.fault_rate is not None else (Settings.from_env().fault_rate or 0.01)
    with tempfile.TemporaryDirectory(prefix="gt-dq-report-") as tmp:
        report, missed = run(Path(tmp), rate, args.years, args.seed)
    print(report)
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
