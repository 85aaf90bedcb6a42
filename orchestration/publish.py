"""Publish: build the next serving file beside the current one, then rename it into place.

Readers open ``serving.duckdb`` read-only with one short-lived connection per query, so an
atomic ``os.replace`` means they see either the old or the new file, never a half-built one.

The steps are ordered so that a crash at any instant leaves the old file with its record or the
new file with its record: (1) ``serving.duckdb.next`` is built with its own publication record
inside (``meta.publish_info``, ``meta.published_tables`` and its row in ``audit.publications``),
checkpointed and fsync'ed; (2) ``os.replace``; (3) the directory is fsync'ed, so the rename
survives a power cut; (4) only then does the warehouse's ``audit.publications`` get the row, so it
never names a file that is not in place. The next publish removes a killed run's ``.next`` files
and, if the crash fell between (2) and (4), copies the live file's record into the warehouse.

Two ways to build ``serving.duckdb.next``:

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

from orchestration.warehouse import connect, ensure_audit_schema, fetch_one, record_publication, scalar

# (schema, table) pairs copied to serving; "*" is every table in the schema. The marts are
# what readers use; the audit trail (ingestion log, quarantine, data-quality runs, results
# and flagged records, sharing log) lets auditors see how each figure was received and checked.
PUBLISHED = (("marts", "*"), ("audit", "*"))

# Not ``.tmp``: DuckDB spills a reader's large queries into the directory ``serving.duckdb.tmp``.
NEXT_SUFFIX = ".next"


@dataclasses.dataclass
class Published:
    """What a publish wrote: rows per table, and how each table got into the new file."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    how: dict[str, str] = dataclasses.field(default_factory=dict)  # copied | kept | rows replaced
    on_top_of: str | None = None  # run id of the publication the file was built on, if any
    removed: list[str] = dataclasses.field(default_factory=list)  # a killed publish's leftovers
    recorded_late: str | None = None  # run id of a live file a killed publish left unrecorded

    def recovery(self) -> str | None:
        """One line on what this publish tidied after a killed one, or None."""
        done = []
        if self.removed:
            done.append("removed " + ", ".join(self.removed))
        if self.recorded_late:
            done.append(f"recorded run {self.recorded_late}'s serving.duckdb in audit.publications")
        return "after an interrupted publish: " + "; ".join(done) if done else None

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
    """Build ``serving.duckdb.next`` with ``tables`` and atomically replace ``serving.duckdb``.

    ``invocation_id``: the run's incremental dbt build, when it is the only one since the last
    publication; with it the file is built on top of the current one. ``unique_keys``: the
    ``unique_key`` of each incremental model, by (schema, table). Tables missing from the
    warehouse are skipped (e.g. nothing loaded yet).
    """
    nxt = serving_path.with_name(serving_path.name + NEXT_SUFFIX)
    out = Published()
    unique_keys = unique_keys or {}
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # The warehouse stays open (and locked) from the clean-up to the record, so no other publish
    # can run in between.
    with connect(warehouse_path) as con:
        ensure_audit_schema(con)
        out.removed = remove_leftovers(serving_path)
        out.recorded_late = record_live_publication(con, serving_path)
        out.on_top_of = _base_run(con, serving_path) if invocation_id else None
        if out.on_top_of:
            shutil.copyfile(serving_path, nxt)
        con.execute(f"attach '{nxt}' as pub")
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
            con.execute("checkpoint pub")  # everything into the file itself, none left in its .wal
        finally:
            con.execute("detach pub")
        _sync_file(nxt)
        os.replace(nxt, serving_path)
        _sync_dir(serving_path.parent)
        record_publication(con, run_id=run_id, as_of=as_of, tables=len(out.counts), at=published_at)
    return out


def remove_leftovers(serving_path: Path) -> list[str]:
    """Delete what a killed publish left beside ``serving_path`` (the half-built ``.next`` file and
    its ``.wal``, and the ``.tmp`` ones of earlier versions); returns their names. Never the live
    file, and never a directory (``serving.duckdb.tmp/`` is where a reader's query spills)."""
    stem = serving_path.name
    removed = []
    for suffix in (NEXT_SUFFIX, ".tmp"):
        for path in (serving_path.with_name(stem + suffix), serving_path.with_name(stem + suffix + ".wal")):
            if path.is_file():
                path.unlink()
                removed.append(path.name)
    return removed


def record_live_publication(con: duckdb.DuckDBPyConnection, serving_path: Path) -> str | None:
    """If the live serving file is a publication newer than any in ``audit.publications`` (a
    publish killed after its rename, before its record), copy the file's own record into the
    warehouse and return its run id. An older file (say, restored from a backup) is left unrecorded:
    the warehouse's last publication then differs from it and the next publish builds whole."""
    if not serving_path.exists():
        return None
    try:
        with duckdb.connect(str(serving_path), read_only=True) as serving:
            info = fetch_one(serving, "select run_id, as_of, published_at, tables_published from meta.publish_info")
    except duckdb.Error:
        return None
    if info is None:
        return None
    run_id, as_of, published_at, tables = info
    last = scalar(con, "select max(published_at) from audit.publications")
    if last is not None and published_at <= last:
        return None
    record_publication(con, run_id=run_id, as_of=as_of, tables=tables, at=published_at)
    return run_id


def _sync_file(path: Path) -> None:
    """The new file complete on disk, on its own, before it becomes visible."""
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{path.name} still has a write-ahead log after its checkpoint: not published")
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(folder: Path) -> None:
    """Make the rename durable: until the directory entry is on disk a power cut can undo it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
