"""Held and refused deliveries, and a person's decision on a held one (``deliveries`` command).

A held re-delivery's rows are in raw already (ingestion wrote them) but it is not current; accepting
it lists it in ``audit.raw_deliveries``, so it is current at once and the next close rebuilds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from orchestration.ingestion.contracts import Entity
from orchestration.ingestion.engine import HELD_BATCHES_SQL, all_entities, delivery_key, record_deliveries
from orchestration.warehouse import ensure_audit_schema, fetch_one, scalar


class DecisionError(Exception):
    """A decision that cannot be made (the file is not held, or was decided already)."""


@dataclass(frozen=True)
class PendingFile:
    file_name: str
    batch_id: int
    status: str  # held | refused (or "rejected", as older logs say)
    message: str


def pending_files(con: duckdb.DuckDBPyConnection, raw_tables: list[str] | None = None) -> list[PendingFile]:
    """Held files not yet decided and not replaced since by a later current delivery, and files
    whose latest load was refused, oldest first. Reads only: the connection may be read-only, and
    the warehouse older than the decisions table."""
    has_decisions = scalar(
        con,
        "select count(*) from information_schema.tables "
        "where table_schema = 'audit' and table_name = 'delivery_decisions'",
    )
    decisions = "audit.delivery_decisions" if has_decisions else "(select null::bigint as batch_id where false)"
    rows = con.execute(
        f"""
        with latest as (
            select file_name, raw_table, arg_max(batch_id, batch_id) as batch_id,
                arg_max(status, batch_id) as status, arg_max(message, batch_id) as message,
                arg_max(service_id, batch_id) as service_id, arg_max(period, batch_id) as period,
                arg_max(revision, batch_id) as revision
            from audit.ingestion_log
            group by file_name, raw_table
        )
        select file_name, batch_id, status, coalesce(message, ''), raw_table, service_id, period, revision
        from latest
        where (status in ('rejected', 'refused')
               or (status = 'held' and batch_id not in (select batch_id from {decisions})))
            and (?::varchar[] is null or list_contains(?::varchar[], raw_table))
        order by batch_id
        """,
        [raw_tables, raw_tables],
    ).fetchall()
    return [PendingFile(*row[:4]) for row in rows if row[2] != "held" or not _replaced(con, *row[1:2], *row[4:])]


def _entity(table: str) -> Entity | None:
    return next((e for e in all_entities() if e.table == table), None)


def _replaced(
    con: duckdb.DuckDBPyConnection, batch_id: int, table: str, service_id: str | None, period: str | None, revision: int
) -> bool:
    """A later delivery of the held file's month (or snapshot) is current: there is nothing to decide."""
    entity = _entity(table)
    if entity is None:
        return False  # not a table this code knows: keep it listed
    current = fetch_one(
        con,
        "select d.period, d.revision, d.batch_id from audit.current_deliveries as c "
        "join audit.raw_deliveries as d using (raw_table, batch_id) "
        "where c.raw_table = ? and c.service_id is not distinct from ? and c.delivery_key = ?",
        [table, service_id, delivery_key(entity, period or "")],
    )
    return current is not None and tuple(current) > (period or "", revision, batch_id)


def _held(con: duckdb.DuckDBPyConnection, file_name: str) -> tuple[int, str, str | None, str | None, int, int]:
    """(batch, raw table, service, period, revision, rows loaded) of the file's held load."""
    row = fetch_one(
        con,
        "select batch_id, raw_table, service_id, period, revision, rows_loaded, status from audit.ingestion_log "
        "where file_name = ? order by batch_id desc limit 1",
        [file_name],
    )
    if row is None:
        raise DecisionError(f"{file_name}: no such file in the ingestion log (give its path under landing/)")
    *held, status = row
    if status != "held":
        raise DecisionError(f"{file_name}: not held (its latest load, batch {row[0]}, is {status})")
    decided = fetch_one(con, "select decision, decided_by from audit.delivery_decisions where batch_id = ?", [row[0]])
    if decided:
        raise DecisionError(f"{file_name}: batch {row[0]} was {decided[0]} already by {decided[1]}")
    return tuple(held)  # type: ignore[return-value]


def _record_decision(
    con: duckdb.DuckDBPyConnection, file_name: str, batch_id: int, decision: str, by: str, reason: str
) -> None:
    if not by.strip() or not reason.strip():
        raise DecisionError("a decision needs --by (who) and --reason (why)")
    con.execute(
        "insert into audit.delivery_decisions values (?, ?, ?, ?, ?, ?)",
        [file_name, batch_id, decision, by, reason, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )


def accept(con: duckdb.DuckDBPyConnection, file_name: str, *, by: str, reason: str) -> str:
    """Make a held delivery current and log who accepted it and why; returns what was done."""
    ensure_audit_schema(con)
    batch_id, table, service_id, period, revision, rows_loaded = _held(con, file_name)
    entity = _entity(table)
    if entity is None:
        raise DecisionError(f"{file_name}: raw table {table} has no contract here")
    con.execute("begin transaction")
    try:
        _record_decision(con, file_name, batch_id, "accepted", by, reason)
        if rows_loaded:
            record_deliveries(con, table, f"(select * from raw.{table} where _batch_id = {int(batch_id)})")
        else:  # an empty revision: it withdraws the month
            con.execute(
                "insert into audit.raw_deliveries values (?, ?, ?, ?, ?, ?, false)",
                [table, service_id, delivery_key(entity, period or ""), period or "", revision, batch_id],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    current = fetch_one(
        con,
        "select batch_id from audit.current_deliveries where raw_table = ? and service_id is not distinct from ? "
        "and delivery_key = ?",
        [table, service_id, delivery_key(entity, period or "")],
    )
    if current and current[0] != batch_id:
        return (
            f"accepted {file_name} (batch {batch_id}); a later delivery (batch {current[0]}) is current, "
            "so it replaces nothing"
        )
    return f"accepted {file_name} (batch {batch_id}): current now ({rows_loaded:,} rows); the next close rebuilds"


def dismiss(con: duckdb.DuckDBPyConnection, file_name: str, *, by: str, reason: str) -> str:
    """Dismiss a held delivery: it never becomes current (its rows stay in raw for the record)."""
    ensure_audit_schema(con)
    batch_id, *_ = _held(con, file_name)
    _record_decision(con, file_name, batch_id, "dismissed", by, reason)
    return f"dismissed {file_name} (batch {batch_id}): the current delivery stays"


__all__ = ["HELD_BATCHES_SQL", "DecisionError", "PendingFile", "accept", "dismiss", "pending_files"]
