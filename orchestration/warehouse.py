"""The warehouse file: one connection helper and the audit tables' DDL.

Only the pipeline opens ``warehouse.duckdb``, one step at a time (DuckDB allows one writer
and no concurrent readers); readers use ``serving.duckdb``.
"""

from __future__ import annotations

import datetime as dt
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
        -- The file's modification time when its bytes were last read (at load, or by a later run
        -- that found them unchanged); null when too recent to trust. With the size, it lets a
        -- run skip an unchanged file without reading and hashing it (see ingest_entity).
        file_mtime_ns bigint,
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
    # One row per delivery held in raw (its rows loaded) or landed empty, written with its rows
    # at ingestion: ``raw_current`` picks each month's current delivery from this short list
    # rather than by grouping raw's rows (millions) on every read. A source whose rows carry
    # their own service_id (the app store) has a row per service in the delivery.
    """
    create table if not exists audit.raw_deliveries (
        raw_table varchar not null,
        service_id varchar,
        delivery_key varchar not null,
        period varchar not null,
        revision integer not null,
        batch_id bigint not null,
        has_rows boolean not null
    )
    """,
    # The current delivery of each month (monthly sources) or of the snapshot, per service: the
    # latest period, then revision, then batch. An empty one (has_rows false) withdraws the rows.
    """
    create or replace view audit.current_deliveries as
    select
        raw_table,
        service_id,
        delivery_key,
        arg_max(batch_id, (period, revision, batch_id)) as batch_id,
        arg_max(has_rows, (period, revision, batch_id)) as has_rows
    from audit.raw_deliveries
    group by raw_table, service_id, delivery_key
    """,
    # One row per dbt build the pipeline ran: which months it was asked to close, whether it rebuilt
    # everything, and dbt's invocation id, which the incremental models stamp on every row they
    # write (``_invocation_id``). The mart gate and publish read it to find what the run rewrote.
    # ``batches_through`` is the last ingestion batch the build saw: a successful build has tested
    # every staging row of that batch or an earlier one (dbt's ``get_where_subquery``).
    """
    create table if not exists audit.dbt_invocations (
        run_id varchar not null,
        invocation_id varchar,
        as_of date not null,
        months_from date,
        full_refresh boolean not null,
        success boolean not null,
        finished_at timestamp not null,
        batches_through bigint
    )
    """,
    # What each successful dbt build was built from: a fingerprint per model, seed, snapshot, test,
    # unit test, source, project macro and the project's vars (orchestration/dbt_definitions.py).
    # The next build compares its own with the last one's to find a changed definition that leaves
    # earlier months stale, and then rebuilds every month.
    """
    create table if not exists audit.dbt_definitions (
        invocation_id varchar not null,
        unique_id varchar not null,
        fingerprint varchar not null
    )
    """,
    # One row per serving.duckdb published (after the mart gate passed): the reference point for
    # what a later run must check and copy.
    """
    create table if not exists audit.publications (
        run_id varchar not null,
        as_of date not null,
        published_at timestamp not null,
        tables_published integer not null
    )
    """,
    # A person's decision on a held re-delivery (``python -m orchestration.cli deliveries``):
    # accepted (it becomes current and the next close rebuilds) or dismissed (it never does).
    """
    create table if not exists audit.delivery_decisions (
        file_name varchar not null,
        batch_id bigint not null,
        decision varchar not null,
        decided_by varchar not null,
        reason varchar not null,
        decided_at timestamp not null
    )
    """,
    # Warehouses made before the column was added (``create table if not exists`` keeps them).
    "alter table audit.ingestion_log add column if not exists file_mtime_ns bigint",
    "alter table audit.dbt_invocations add column if not exists batches_through bigint",
    # A warehouse from before the status said what the design says: "refused", not "rejected".
    "update audit.ingestion_log set status = 'refused' where status = 'rejected'",
)


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open, yield, always close: no cached connections (a DuckDB file held open by any process,
    even read-only, cannot be opened for writing by another, so a cached reader blocks the pipeline)."""
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


def record_dbt_invocation(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    invocation_id: str | None,
    as_of: dt.date,
    months_from: dt.date | None,
    full_refresh: bool,
    success: bool,
) -> None:
    ensure_audit_schema(con)
    con.execute(
        "insert into audit.dbt_invocations by name select ? as run_id, ? as invocation_id, ? as as_of, "
        "? as months_from, ? as full_refresh, ? as success, ? as finished_at, "
        "(select max(batch_id) from audit.ingestion_log) as batches_through",
        [
            run_id,
            invocation_id,
            as_of,
            months_from,
            full_refresh,
            success,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        ],
    )


def record_dbt_definitions(con: duckdb.DuckDBPyConnection, invocation_id: str, fingerprints: dict[str, str]) -> None:
    """What the build ``invocation_id`` was built from: one insert of a few hundred rows."""
    ensure_audit_schema(con)
    ids = list(fingerprints)
    con.execute(
        "insert into audit.dbt_definitions select ?, unnest(?::varchar[]), unnest(?::varchar[])",
        [invocation_id, ids, [fingerprints[uid] for uid in ids]],
    )


def last_build_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """unique_id -> fingerprint of what the last successful dbt build that left a record was built
    from (a build of some models only leaves none); ``None`` when no build left one (a warehouse
    built before builds recorded it)."""
    ensure_audit_schema(con)
    last = scalar(
        con,
        "select invocation_id from audit.dbt_invocations as build where success and exists "
        "(select 1 from audit.dbt_definitions as used where used.invocation_id = build.invocation_id) "
        "order by finished_at desc limit 1",
    )
    if last is None:
        return None
    rows = con.execute(
        "select unique_id, fingerprint from audit.dbt_definitions where invocation_id = ?", [last]
    ).fetchall()
    return dict(rows) or None


def withdrawals_since_last_build(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """Months withdrawn since the last successful dbt build, as (raw table, service, delivery key):
    the current delivery (``audit.current_deliveries``) is empty (a header-only revision) and newer
    than that build's batches, and the delivery current at that build had rows.

    The incremental models replace the (service, month) groups a build computes, and a withdrawn
    month computes none, so only a full rebuild drops its rows from the marts. A month that was
    empty already (London's on-call availability: it has no on-call stations) withdraws nothing."""
    ensure_audit_schema(con)
    return con.execute(
        """
        with built as (
            select coalesce(max(batches_through), -1) as through from audit.dbt_invocations where success
        ),
        at_build as (  -- current_deliveries' rule, over the deliveries that build saw
            select raw_table, service_id, delivery_key,
                arg_max(has_rows, (period, revision, batch_id)) as had_rows
            from audit.raw_deliveries
            where batch_id <= (select through from built)
            group by raw_table, service_id, delivery_key
        )
        select now.raw_table, coalesce(now.service_id, ''), now.delivery_key
        from audit.current_deliveries as now
        join at_build as was
            on now.raw_table = was.raw_table
            and now.service_id is not distinct from was.service_id
            and now.delivery_key = was.delivery_key
        where not now.has_rows and was.had_rows and now.batch_id > (select through from built)
        order by all
        """
    ).fetchall()


def accepted_since_last_build(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Held deliveries accepted since the last successful dbt build, as (file, batch id). Their
    batches are older than that build's, so the incremental models' "newer batch" rule cannot see
    them (nor can dbt's untested-batch filter): the close rebuilds every model, as for a withdrawal."""
    ensure_audit_schema(con)
    return con.execute(
        """
        select file_name, batch_id from audit.delivery_decisions
        where decision = 'accepted'
            and decided_at > (select coalesce(max(finished_at), timestamp '1900-01-01')
                              from audit.dbt_invocations where success)
        order by batch_id
        """
    ).fetchall()


def record_publication(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    as_of: dt.date,
    tables: int,
    at: dt.datetime | None = None,
    schema: str = "audit",
) -> None:
    """Append a publication to ``<schema>.publications`` (publish also writes it into the new
    serving file's copy of the table, ``pub.audit``)."""
    if schema == "audit":
        ensure_audit_schema(con)
    con.execute(
        f"insert into {schema}.publications values (?, ?, ?, ?)",
        [run_id, as_of, at or dt.datetime.now(dt.UTC).replace(tzinfo=None), tables],
    )


def incremental_invocation(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The invocation id of run ``run_id``'s dbt build when it is the only build since the last
    publication, it was incremental and it succeeded: the rows stamped with it (``_invocation_id``)
    are then everything that changed since ``serving.duckdb`` was published, so the mart gate and
    publish may look at those rows only. ``None`` otherwise (nothing published yet, a full rebuild,
    an earlier build whose rows were never checked or published, no dbt build in this run): the
    caller treats the whole warehouse as new."""
    ensure_audit_schema(con)
    since = con.execute(
        "select run_id, invocation_id, full_refresh, success from audit.dbt_invocations "
        "where finished_at > (select max(published_at) from audit.publications)"
    ).fetchall()
    if len(since) != 1:
        return None
    build_run, invocation_id, full_refresh, success = since[0]
    return invocation_id if build_run == run_id and success and not full_refresh else None
