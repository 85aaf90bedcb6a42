"""Publish: copy the reporting tables into a new serving file, then rename it into place.

Readers open ``serving.duckdb`` read-only with one short-lived connection per query, so an
atomic ``os.replace`` means they see either the old or the new file, never a half-built one.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from orchestration.warehouse import connect

# (schema, table) pairs copied to serving; "*" is every table in the schema. The marts are
# what readers use; the audit trail (ingestion log, quarantine, data-quality runs, results
# and flagged records, sharing log) lets auditors see how each figure was received and checked.
PUBLISHED = (("marts", "*"), ("audit", "*"))


def publish(
    warehouse_path: Path,
    serving_path: Path,
    tables: list[tuple[str, str]] | tuple[tuple[str, str], ...],
    *,
    run_id: str,
    as_of: dt.date,
) -> dict[str, int]:
    """Build ``serving.duckdb.tmp`` from ``tables`` and atomically replace ``serving.duckdb``.

    Tables missing from the warehouse are skipped (e.g. nothing loaded yet). Returns row counts.
    """
    tmp = serving_path.with_name(serving_path.name + ".tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    with connect(warehouse_path) as con:
        con.execute(f"attach '{tmp}' as pub")
        try:
            present = {
                (s, t)
                for s, t in con.execute(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_catalog = current_database() and table_type = 'BASE TABLE'"
                ).fetchall()
            }
            wanted = [
                (schema, name)
                for schema, table in tables
                for s2, name in sorted(present)
                if s2 == schema and (table == "*" or table == name)
            ]
            for schema, table in wanted:
                con.execute(f"create schema if not exists pub.{schema}")
                con.execute(f"create table pub.{schema}.{table} as select * from {schema}.{table}")
                counts[f"{schema}.{table}"] = con.execute(f"select count(*) from pub.{schema}.{table}").fetchall()[0][0]
            con.execute("create schema if not exists pub.meta")
            con.execute(
                "create table pub.meta.publish_info as select ? as run_id, ?::date as as_of, "
                "?::timestamp as published_at, ? as tables_published",
                [run_id, as_of, dt.datetime.now(dt.UTC).replace(tzinfo=None), len(counts)],
            )
        finally:
            con.execute("detach pub")
    # Make sure the new file is complete on disk before it becomes visible.
    with duckdb.connect(str(tmp)) as check:
        check.execute("checkpoint")
    os.replace(tmp, serving_path)
    return counts


def published_tables() -> list[tuple[str, str]]:
    return list(PUBLISHED)
