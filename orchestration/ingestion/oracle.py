"""Measure ingestion against the simulator's ground truth: which injected faults were caught.

A record fault counts as detected when its (file, row[, entity]) is in ``audit.quarantine`` or
was flagged by a Great Expectations check (``audit.dq_record_flags``);
a file fault when the log shows the file refused (schema drift), decoded with a warning
(encoding) or superseding an earlier delivery (re-delivery).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.ingestion.contracts import FAULT_CLASS_NAMES


def load_manifest(landing_dir: Path) -> pd.DataFrame:
    path = landing_dir / "_simulator" / "fault_manifest.json"
    entries = json.loads(path.read_text()) if path.exists() else []
    frame = pd.DataFrame(entries, columns=["system", "file", "fault_class", "record_key", "row", "detail", "extra"])
    frame["entity"] = [(e or {}).get("entity") for e in frame["extra"]]
    return frame


def detect(con: duckdb.DuckDBPyConnection, manifest: pd.DataFrame) -> pd.DataFrame:
    """The manifest with a ``detected`` flag and how (the quarantine reason or log status)."""
    quarantine = con.execute("select file_name, row_number, entity, reason from audit.quarantine").df()
    has_flags = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'dq_record_flags'"
    ).fetchall()[0][0]
    flags = (
        con.execute(
            "select _source_file, _source_row, any_value(expectation || coalesce(' on ' || column_name, '')) as how "
            "from audit.dq_record_flags group by 1, 2"
        ).df()
        if has_flags
        else pd.DataFrame(columns=["_source_file", "_source_row", "how"])
    )
    by_flag = {(f, int(r)): f"flagged by {how}" for f, r, how in flags.itertuples(index=False) if pd.notna(r)}
    log = con.execute("select file_name, status, message, warnings, encoding from audit.ingestion_log").df()
    by_row = {
        (r.file_name, int(r.row_number), r.entity): r.reason for r in quarantine.itertuples() if pd.notna(r.row_number)
    }
    by_row_any = {(f, n): reason for (f, n, _), reason in by_row.items()}
    results = []
    for e in manifest.itertuples():
        how = None
        if e.fault_class == "schema_drift":
            refused = log[(log.file_name == e.file) & (log.status == "refused")]
            how = refused.message.iloc[0] if len(refused) else None
        elif e.fault_class == "encoding_cp1252":
            warned = log[(log.file_name == e.file) & (log.encoding == "cp1252")]
            how = warned.warnings.iloc[0] if len(warned) else None
        elif e.fault_class == "redelivery":
            loaded = log[(log.file_name == e.file) & (log.status == "loaded")]
            how = "loaded as a later revision, superseding the month" if len(loaded) else None
        elif pd.notna(e.row):
            key = (e.file, int(e.row))
            how = (by_row.get((*key, e.entity)) if e.entity else by_row_any.get(key)) or by_flag.get(key)
        results.append(how)
    out = manifest.copy()
    out["detected_by"] = results
    out["detected"] = out["detected_by"].notna()
    return out


def detection_table(detected: pd.DataFrame) -> pd.DataFrame:
    table = (
        detected.groupby("fault_class")
        .agg(injected=("detected", "size"), detected=("detected", "sum"))
        .reindex(FAULT_CLASS_NAMES, fill_value=0)
    )
    table["missed"] = table["injected"] - table["detected"]
    table["detected_pct"] = (100 * table["detected"] / table["injected"].where(table["injected"] > 0)).round(1)
    return table.reset_index()


def false_positives(con: duckdb.DuckDBPyConnection, manifest: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows the manifest does not explain (excluding whole files refused)."""
    known = {(f, int(r)) for f, r in zip(manifest.file, manifest.row, strict=True) if pd.notna(r)}
    quarantine = con.execute(
        "select file_name, row_number, reason from audit.quarantine "
        "where reason not like 'file refused:%' and reason not like 'file rejected:%' and file_name not like 'real/%'"
    ).df()
    mask = [(f, int(r)) not in known for f, r in zip(quarantine.file_name, quarantine.row_number, strict=True)]
    return quarantine[mask]


def render(table: pd.DataFrame) -> str:
    lines = [f"{'fault class':<20}{'injected':>9}{'detected':>9}{'missed':>7}{'detected %':>12}"]
    for r in table.itertuples():
        pct = "" if pd.isna(r.detected_pct) else f"{r.detected_pct:.1f}"
        lines.append(f"{r.fault_class:<20}{r.injected:>9}{r.detected:>9}{r.missed:>7}{pct:>12}")
    total_i, total_d = int(table.injected.sum()), int(table.detected.sum())
    lines.append(f"{'all':<20}{total_i:>9}{total_d:>9}{total_i - total_d:>7}{100 * total_d / max(total_i, 1):>12.1f}")
    return "\n".join(lines)
