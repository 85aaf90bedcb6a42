"""Owner commentary and actions: an append-only SQLite store the app writes and the pipeline reads.

It lives at GT_DATA_DIR/app_store/commentary.sqlite, apart from the DuckDB files, so a write from
the app never contends with the pipeline's lock. Rows are never updated or deleted (triggers refuse
it); the latest row per (service, KPI, unit, month) is the one the reports show, the rest is history.
One connection per call, closed at once.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

from orchestration.append_only import append_only
from orchestration.ingestion.app_store import COMMENTARY_COLUMNS

REPO_ROOT = Path(__file__).resolve().parents[2]

# One definition of the store's columns, shared with the pipeline that ingests the store.
COLUMNS = list(COMMENTARY_COLUMNS)

_SCHEMA = """
create table if not exists commentary (
    commentary_id integer primary key autoincrement,
    service_id text not null,
    kpi_code text not null,
    org_unit_id text not null,
    period_month text not null,          -- ISO date, first of the month
    author text not null,
    commentary text not null,
    action text,
    action_owner text,
    action_due_date text,                -- ISO date
    created_at text not null             -- ISO 8601, UTC
);
create index if not exists commentary_key
    on commentary (service_id, kpi_code, org_unit_id, period_month, created_at);
"""
_SCHEMA += append_only("commentary", "commentary is append-only")


class CommentaryError(ValueError):
    """A commentary that cannot be stored (missing author or text)."""


def store_path() -> Path:
    data_dir = Path(os.environ.get("GT_DATA_DIR") or REPO_ROOT / "data")
    return data_dir / "app_store" / "commentary.sqlite"


def _iso_date(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10]).isoformat()
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return pd.Timestamp(value).date().isoformat()


def _connect(path: Path, write: bool) -> sqlite3.Connection:
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=10)
        con.executescript(_SCHEMA)
        return con
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def add_commentary(
    *,
    service_id: str,
    kpi_code: str,
    org_unit_id: str,
    period_month,
    author: str,
    commentary: str,
    action: str | None = None,
    action_owner: str | None = None,
    action_due_date=None,
    path: Path | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Append one commentary row; returns its commentary_id."""
    author = (author or "").strip()
    commentary = (commentary or "").strip()
    if not author:
        raise CommentaryError("author is required")
    if not commentary:
        raise CommentaryError("commentary is required")
    created_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
    row = (
        service_id,
        kpi_code,
        org_unit_id,
        _iso_date(period_month),
        author,
        commentary,
        (action or "").strip() or None,
        (action_owner or "").strip() or None,
        _iso_date(action_due_date),
        created_at,
    )
    with closing(_connect(path or store_path(), write=True)) as con, con:
        cur = con.execute(
            """
            insert into commentary (service_id, kpi_code, org_unit_id, period_month, author, commentary,
                                    action, action_owner, action_due_date, created_at)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            row,
        )
        return int(cur.lastrowid)


def _read(sql: str, params: list, path: Path | None) -> pd.DataFrame:
    path = path or store_path()
    if not path.exists():
        return _typed(pd.DataFrame(columns=COLUMNS))
    with closing(_connect(path, write=False)) as con:
        return _typed(pd.read_sql_query(sql, con, params=params))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=COLUMNS)
    df["commentary_id"] = df["commentary_id"].astype("Int64")
    for col in ("period_month", "action_due_date"):
        df[col] = pd.to_datetime(df[col]).dt.date
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
    return df


_FILTER = """
    where (? is null or service_id = ?)
      and (? is null or kpi_code = ?)
      and (? is null or org_unit_id = ?)
      and (? is null or period_month >= ?)
      and (? is null or period_month <= ?)
"""


def _params(service_id, kpi_code, org_unit_id, month_from, month_to) -> list:
    values = [service_id, kpi_code, org_unit_id, _iso_date(month_from), _iso_date(month_to)]
    return [v for value in values for v in (value, value)]


def history(
    service_id: str | None = None,
    kpi_code: str | None = None,
    org_unit_id: str | None = None,
    month_from=None,
    month_to=None,
    path: Path | None = None,
) -> pd.DataFrame:
    """Every row matching the filters, newest first."""
    return _read(
        f"select * from commentary {_FILTER} order by created_at desc, commentary_id desc",
        _params(service_id, kpi_code, org_unit_id, month_from, month_to),
        path,
    )


def latest(
    service_id: str | None = None,
    kpi_code: str | None = None,
    org_unit_id: str | None = None,
    month_from=None,
    month_to=None,
    path: Path | None = None,
) -> pd.DataFrame:
    """The latest row per (service, KPI, unit, month): what the reports show."""
    return _read(
        f"""
        select * from (
            select *, row_number() over (
                partition by service_id, kpi_code, org_unit_id, period_month
                order by created_at desc, commentary_id desc
            ) as rn
            from commentary {_FILTER}
        ) where rn = 1
        order by period_month desc, kpi_code, org_unit_id
        """,
        _params(service_id, kpi_code, org_unit_id, month_from, month_to),
        path,
    )


def latest_per_kpi(service_id: str, org_unit_id: str, month_from, month_to, path: Path | None = None) -> pd.DataFrame:
    """For a period of several months (a quarter): the latest commentary per KPI for one unit."""
    df = latest(service_id, None, org_unit_id, month_from, month_to, path)
    if df.empty:
        return df
    return df.sort_values(["period_month", "created_at"], ascending=False).drop_duplicates("kpi_code")
