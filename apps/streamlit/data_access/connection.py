"""The one way the app reads serving.duckdb: read-only, one connection per query.

A cached or long-lived connection would block the pipeline's publish (DuckDB file locks) and
would keep showing the old file after a publish, so each call opens and closes its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[3]
APPROVED_MONTHLY = "approved_kpi_monthly"  # data_access.report_sql names it for a viewer's queries


def serving_path() -> Path:
    data_dir = Path(os.environ.get("GT_DATA_DIR") or REPO_ROOT / "data")
    return data_dir / "serving.duckdb"


def query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    path = serving_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run `make pipeline` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        if APPROVED_MONTHLY in sql:
            _lay_out_approved(con)
        cursor = con.execute(sql, params or [])
        dates = [d[0] for d in cursor.description if str(d[1]) == "DATE"]
        df = cursor.df()
    finally:
        con.close()
    # DATE columns arrive as timestamps; keep them dates so tables show 2026-10-01, not midnight.
    for column in dates:
        if column in df.columns:
            df[column] = df[column].dt.date
    return df


def _lay_out_approved(con: duckdb.DuckDBPyConnection) -> None:
    """The acting viewer's approved months as a temporary view shaped exactly like marts.rpt_kpi_monthly
    (each column cast to the mart's type; a column the approval predates is null), so a report query reads
    approved figures by naming this view instead of the mart."""
    from data_access import approvals  # it reads this module's serving_path

    frame = approvals.viewer_approved_rows()
    columns = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'rpt_kpi_monthly' order by ordinal_position
        """
    ).fetchall()
    con.register("_approved_rows", frame if len(frame.columns) else pd.DataFrame({"kpi_code": []}))
    cells = ", ".join(
        f"cast({f'_a.{_quoted(name)}' if name in frame.columns else 'null'} as {kind}) as {_quoted(name)}"
        for name, kind in columns
    )
    con.execute(f"create temp view {APPROVED_MONTHLY} as select {cells} from _approved_rows as _a")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_published() -> bool:
    return serving_path().exists()


def publish_info() -> dict:
    df = query("select run_id, as_of, published_at, tables_published from meta.publish_info")
    if not len(df):
        return {}
    return df.iloc[0].to_dict()


def table_exists(schema: str, table: str) -> bool:
    df = query(
        "select count(*) as n from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    )
    return bool(df.n.iloc[0])


def table_columns(schema: str, table: str) -> list[str]:
    df = query(
        """
        select column_name from information_schema.columns
        where table_schema = ? and table_name = ? order by ordinal_position
        """,
        [schema, table],
    )
    return df.column_name.tolist()
