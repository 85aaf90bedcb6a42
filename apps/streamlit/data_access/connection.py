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


def serving_path() -> Path:
    data_dir = Path(os.environ.get("GT_DATA_DIR") or REPO_ROOT / "data")
    return data_dir / "serving.duckdb"


def query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    path = serving_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run `make pipeline` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
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
