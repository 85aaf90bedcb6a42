"""Every query the app runs, against serving.duckdb only, read-only, one connection per query.

A cached or long-lived connection would block the pipeline's publish (DuckDB file locks) and
would keep showing the old file after a publish, so each call opens and closes its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]


def serving_path() -> Path:
    data_dir = Path(os.environ.get("GT_DATA_DIR") or REPO_ROOT / "data")
    return data_dir / "serving.duckdb"


def query(sql: str, params: list | None = None) -> pd.DataFrame:
    path = serving_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run `make pipeline` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def is_published() -> bool:
    return serving_path().exists()


def publish_info() -> dict:
    df = query("select run_id, as_of, published_at, tables_published from meta.publish_info")
    return df.iloc[0].to_dict() if len(df) else {}


def ingestion_by_system() -> pd.DataFrame:
    return query(
        """
        select system,
               count(*) as files,
               sum(rows_received) as rows_received,
               sum(rows_loaded) as rows_loaded,
               sum(rows_quarantined) as rows_quarantined,
               count(*) filter (where status = 'rejected') as files_rejected,
               bool_and(rows_received = rows_loaded + rows_quarantined) as reconciles,
               max(finished_at) as last_loaded_at
        from audit.ingestion_log
        group by system
        order by system
        """
    )


def ingestion_files(system: str | None = None) -> pd.DataFrame:
    return query(
        """
        select batch_id, system, entity, service_id, file_name, period, revision, encoding,
               rows_received, rows_loaded, rows_quarantined, status, message, warnings,
               started_at, finished_at
        from audit.ingestion_log
        where ? is null or system = ?
        order by batch_id desc
        """,
        [system, system],
    )


def quarantine_sample(system: str | None = None, limit: int = 500) -> pd.DataFrame:
    return query(
        """
        select system, entity, service_id, file_name, row_number, reason, raw_text
        from audit.quarantine
        where ? is null or system = ?
        order by file_name, row_number
        limit ?
        """,
        [system, system, limit],
    )


def quarantine_reasons(system: str | None = None) -> pd.DataFrame:
    # The reason's leading clause ("column x: ...") groups like faults together.
    return query(
        """
        select system, split_part(reason, ':', 1) as rule, count(*) as rows
        from audit.quarantine
        where ? is null or system = ?
        group by all
        order by rows desc
        """,
        [system, system],
    )
