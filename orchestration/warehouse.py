"""The warehouse file: one connection helper and the audit tables' DDL.

Only the pipeline opens ``warehouse.duckdb``, one step at a time (DuckDB allows one writer
and no concurrent readers); readers use ``serving.duckdb``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.settings import duckdb_config

AUDIT_DDL = (
    "create schema if not exists raw",
    "create schema if not exists raw_current",
    "create schema if not exists audit",
    """
    create table if not exists audit.ingestion_log (
        batch_id bigint primary key,
        run_id varchar,
        system varchar not null,
        entity varchar not null,
        raw_table varchar not null,
        service_id varchar,
        file_name varchar not null,
        file_sha256 varchar not null,
        file_bytes bigint,
        encoding varchar,
        period varchar,
        revision integer,
        rows_received bigint not null,
        rows_loaded bigint not null,
        rows_quarantined bigint not null,
        status varchar not null,
        message varchar,
        warnings varchar,
        started_at timestamp not null,
        finished_at timestamp not null,
        check (rows_received = rows_loaded + rows_quarantined)
    )
    """,
    """
    create table if not exists audit.quarantine (
        batch_id bigint not null,
        system varchar not null,
        entity varchar not null,
        service_id varchar,
        file_name varchar not null,
        row_number bigint,
        reason varchar not null,
        raw_text varchar,
        quarantined_at timestamp not null
    )
    """,
)


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open, yield, always close: no cached connections (see STACK_NOTES on DuckDB locks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
    try:
        yield con
    finally:
        con.close()


def ensure_audit_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in AUDIT_DDL:
        con.execute(statement)


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row of a query, fully consumed: DuckDB 2.0 refuses new work on a connection while
    a previous result is only partly fetched (``fetchone`` leaves it open)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    row = fetch_one(con, sql, params)
    return row[0] if row else None
