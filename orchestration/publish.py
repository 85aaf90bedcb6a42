"""Publish: build the next serving file beside the current one, then rename it into place.

Readers open ``serving.duckdb`` read-only with one short-lived connection per query, so an
atomic ``os.replace`` means they see either the old or the new file, never a half-built one.

Two ways to build ``serving.duckdb.tmp``:

* **whole**: every published table copied from the warehouse (the first build, ``--full``, or
  whenever the current serving file cannot be vouched for);
* **on top of the current file** (a monthly close): the current ``serving.duckdb`` is copied and
  only what changed is written. That is allowed only when the warehouse's audit trail says the
  current file is the last publication and exactly one dbt build has run since, incrementally
  (``orchestration.warehouse.incremental_invocation``). Then

  - an incremental model (dbt's ``replace_groups`` delete and insert on its ``unique_key``) gets the same delete and
    insert: the rows stamped with that build's ``_invocation_id`` replace those with the same key;
    afterwards its row count, and its rows per ``_invocation_id``, must equal the warehouse's;
  - any other table is compared by a fingerprint (row count and the sum of each row's hash) with
    the one stored at the last publication (``meta.published_tables``) and copied only if it differs.

  Any table that does not match after this is copied whole, so the result is the same as a whole
  publish either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from orchestration.warehouse import connect, ensure_audit_schema, record_publication, scalar

# (schema, table) pairs copied to serving; "*" is every table in the schema. The marts are
# what readers use; the audit trail (ingestion log, quarantine, data-quality runs, results
# and flagged records, sharing log) lets auditors see how each figure was received and checked.
PUBLISHED = (("marts", "*"), ("audit", "*"))


@dataclasses.dataclass
class Published:
    """What a publish wrote: rows per table, and how each table got into the new file."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    how: dict[str, str] = dataclasses.field(default_factory=dict)  # copied | kept | rows replaced
    on_top_of: str | None = None  # run id of the publication the file was built on, if any

    def summary(self) -> dict[str, int]:
        return dict(Counter(self.how.values()))


def fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int]:
    """(rows, sum of the rows' hashes): equal for equal tables whatever the row order."""
    rows, total = con.execute(f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t").fetchall()[0]
    return int(rows), int(total)


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()


def _counts_by_invocation(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, int]:
    return dict(con.execute(f"select _invocation_id, count(*) from {relation} group by 1").fetchall())


def _base_run(con: duckdb.DuckDBPyConnection, serving_path: Path) -> str | None:
    """The run id of the current serving file, when it is the warehouse's last publication."""
    if not serving_path.exists():
        return None
    last = scalar(con, "select run_id from audit.publications order by published_at desc limit 1")
    try:
        with duckdb.connect(str(serving_path), read_only=True) as serving:
            current = scalar(serving, "select run_id from meta.publish_info")
            has_prints = scalar(
                serving,
                "select count(*) from information_schema.tables "
                "where table_schema = 'meta' and table_name = 'published_tables'",
            )
    except duckdb.Error:
        return None
    return current if current is not None and current == last and has_prints else None


def publish(
    warehouse_path: Path,
    serving_path: Path,
    tables: list[tuple[str, str]] | tuple[tuple[str, str], ...],
    *,
    run_id: str,
    as_of: dt.date,
    invocation_id: str | None = None,
    unique_keys: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> Published:
    """Build ``serving.duckdb.tmp`` with ``tables`` and atomically replace ``serving.duckdb``.

    ``invocation_id``: the run's incremental dbt build, when it is the only one since the last
    publication; with it the file is built on top of the current one. ``unique_keys``: the
    ``unique_key`` of each incremental model, by (schema, table). Tables missing from the
    warehouse are skipped (e.g. nothing loaded yet).
    """
    tmp = serving_path.with_name(serving_path.name + ".tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    out = Published()
    unique_keys = unique_keys or {}
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with connect(warehouse_path) as con:
        ensure_audit_schema(con)
        out.on_top_of = _base_run(con, serving_path) if invocation_id else None
        if out.on_top_of:
            shutil.copyfile(serving_path, tmp)
        con.execute(f"attach '{tmp}' as pub")
        try:
            stored = (
                {
                    (s, t): (rows, None if print_ is None else int(print_))
                    for s, t, rows, print_ in con.execute(
                        "select table_schema, table_name, rows, fingerprint from pub.meta.published_tables"
                    ).fetchall()
                }
                if out.on_top_of
                else {}
            )
            prints = []
            for schema, table in _wanted(con, tables):
                name = f"{schema}.{table}"
                if (schema, table) in unique_keys:
                    # An incremental model: brought level through its keys, so it needs no fingerprint.
                    keys = unique_keys[(schema, table)]
                    if out.on_top_of and _replace_rows(con, schema, table, keys, invocation_id):
                        out.how[name] = "rows replaced"
                    else:
                        _copy(con, schema, table)
                        out.how[name] = "copied"
                    prints.append((schema, table, None))
                    continue
                current = fingerprint(con, name)
                if out.on_top_of and stored.get((schema, table)) == current and _same_columns(con, schema, table):
                    out.how[name] = "kept"
                else:
                    _copy(con, schema, table)
                    out.how[name] = "copied"
                prints.append((schema, table, current))
            for schema, table in {(s, t) for s, t in stored} - {(s, t) for s, t, _ in prints}:
                con.execute(f"drop table if exists pub.{schema}.{table}")  # no longer in the warehouse
            if ("audit", "publications") in {(s, t) for s, t, _ in prints}:
                # The serving file lists itself among the publications, as the warehouse will.
                record_publication(
                    con, run_id=run_id, as_of=as_of, tables=len(prints), at=published_at, schema="pub.audit"
                )
            for schema, table, _ in prints:
                out.counts[f"{schema}.{table}"] = scalar(con, f"select count(*) from pub.{schema}.{table}")
            _write_meta(con, prints, out, run_id=run_id, as_of=as_of, published_at=published_at)
        finally:
            con.execute("detach pub")
    # Make sure the new file is complete on disk before it becomes visible.
    with duckdb.connect(str(tmp)) as check:
        check.execute("checkpoint")
    os.replace(tmp, serving_path)
    with connect(warehouse_path) as con:
        record_publication(con, run_id=run_id, as_of=as_of, tables=len(out.counts), at=published_at)
    return out


def _wanted(con: duckdb.DuckDBPyConnection, tables) -> list[tuple[str, str]]:
    present = {
        (s, t)
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE'"
        ).fetchall()
    }
    return [
        (schema, name)
        for schema, table in tables
        for s2, name in sorted(present)
        if s2 == schema and (table == "*" or table == name)
    ]


def _copy(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    con.execute(f"create schema if not exists pub.{schema}")
    con.execute(f"create or replace table pub.{schema}.{table} as select * from {schema}.{table}")


def _same_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    here = _columns(con, scalar(con, "select current_database()"), schema, table)
    return here == _columns(con, "pub", schema, table)


def _replace_rows(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, keys: Sequence[str], invocation_id: str
) -> bool:
    """dbt's replace_groups again, in ``pub``: rows the build wrote replace those with their key.
    False (and nothing changed) when the table cannot be brought level that way."""
    name = f"{schema}.{table}"
    if not _same_columns(con, schema, table):
        return False
    key_list = ", ".join(keys)
    con.execute("begin")
    try:
        con.execute(
            f"delete from pub.{name} where ({key_list}) in "
            f"(select {key_list} from {name} where _invocation_id = ?)",
            [invocation_id],
        )
        con.execute(f"insert into pub.{name} select * from {name} where _invocation_id = ?", [invocation_id])
        if _counts_by_invocation(con, f"pub.{name}") != _counts_by_invocation(con, name):
            con.execute("rollback")
            return False
        con.execute("commit")
        return True
    except duckdb.Error:
        con.execute("rollback")
        raise


def _write_meta(
    con: duckdb.DuckDBPyConnection, prints, out: Published, *, run_id: str, as_of: dt.date, published_at: dt.datetime
) -> None:
    con.execute("create schema if not exists pub.meta")
    con.execute(
        "create or replace table pub.meta.publish_info as select ? as run_id, ?::date as as_of, "
        "?::timestamp as published_at, ? as tables_published",
        [run_id, as_of, published_at, len(out.counts)],
    )
    # Fingerprints of the tables a later publish compares with; a table whose rows were replaced
    # is compared through its keys and invocation counts instead, so it needs none.
    con.execute(
        "create or replace table pub.meta.published_tables "
        "(table_schema varchar, table_name varchar, rows bigint, fingerprint hugeint, how varchar)"
    )
    for schema, table, current in prints:
        rows, total = current if current else (out.counts[f"{schema}.{table}"], None)
        con.execute(
            "insert into pub.meta.published_tables values (?, ?, ?, ?, ?)",
            [schema, table, rows, total, out.how[f"{schema}.{table}"]],
        )


def published_tables() -> list[tuple[str, str]]:
    return list(PUBLISHED)
