"""Keep every validation in the warehouse, append-only (GX Data Docs, a by-product, are built by
``expectations.docs``; ``build_data_docs`` is importable from here too).

Three tables in the ``audit`` schema, created when absent and only ever inserted into:

* ``audit.dq_runs``: one row per validation (suite x batch) with its outcome;
* ``audit.dq_results``: one row per check: expectation, column, severity, success, element
  count, unexpected count and percent, a sample of failing keys and values, the batch, the time;
* ``audit.dq_record_flags``: one row per failing record per check, with its key and lineage
  (``service_id``, ``_source_file``, ``_source_row``, ``_batch_id``), so a KPI can say "computed
  from N records, M flagged" and an auditor can list them.

``validation_id`` (unique per ``validate`` call) joins the three; ``run_id`` groups a pipeline run.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from expectations.docs import build_data_docs
from expectations.results import SuiteResult

DQ_DDL: tuple[str, ...] = (
    "create schema if not exists audit",
    """
    create table if not exists audit.dq_runs (
        validation_id varchar not null,
        run_id varchar not null,
        suite varchar not null,
        target varchar not null,
        batch_label varchar,
        started_at timestamp not null,
        finished_at timestamp not null,
        success boolean not null,
        checks integer not null,
        blocking_failures integer not null,
        warnings integer not null,
        rows_validated bigint not null,
        records_flagged bigint not null,
        notes varchar
    )
    """,
    """
    create table if not exists audit.dq_results (
        validation_id varchar not null,
        run_id varchar not null,
        suite varchar not null,
        target varchar not null,
        batch_label varchar,
        check_number integer not null,
        expectation varchar not null,
        column_name varchar,
        row_condition varchar,
        severity varchar not null,
        description varchar,
        kwargs varchar,
        success boolean not null,
        element_count bigint,
        unexpected_count bigint,
        unexpected_percent double,
        observed_value varchar,
        sample varchar,
        exception varchar,
        validated_at timestamp not null
    )
    """,
    """
    create table if not exists audit.dq_record_flags (
        validation_id varchar not null,
        run_id varchar not null,
        suite varchar not null,
        target varchar not null,
        check_number integer not null,
        expectation varchar not null,
        column_name varchar,
        severity varchar not null,
        key varchar,
        value varchar,
        service_id varchar,
        _source_file varchar,
        _source_row bigint,
        _batch_id bigint,
        flagged_at timestamp not null
    )
    """,
)

FLAG_COLUMNS = (
    "validation_id",
    "run_id",
    "suite",
    "target",
    "check_number",
    "expectation",
    "column_name",
    "severity",
    "key",
    "value",
    "service_id",
    "_source_file",
    "_source_row",
    "_batch_id",
    "flagged_at",
)


def ensure_dq_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DQ_DDL:
        con.execute(statement)


def record(con: duckdb.DuckDBPyConnection, result: SuiteResult) -> None:
    """Append one validation to ``audit.dq_runs``, ``audit.dq_results`` and ``audit.dq_record_flags``
    in one transaction. Recording the same result twice is refused; nothing is updated or deleted."""
    ensure_dq_schema(con)
    seen = con.execute("select count(*) from audit.dq_runs where validation_id = ?", [result.validation_id]).fetchall()[
        0
    ][0]
    if seen:
        raise ValueError(f"validation {result.validation_id} ({result.suite}) is already recorded")
    flags = _flags(result)
    run = pd.DataFrame(
        [
            {
                "validation_id": result.validation_id,
                "run_id": result.run_id,
                "suite": result.suite,
                "target": result.target,
                "batch_label": result.batch_label,
                "started_at": result.started_at,
                "finished_at": result.finished_at,
                "success": result.success,
                "checks": len(result.checks),
                "blocking_failures": len(result.blocking_failures),
                "warnings": len(result.warnings),
                "rows_validated": result.rows,
                "records_flagged": len(flags),
                "notes": "\n".join(result.notes) or None,
            }
        ]
    )
    results = pd.DataFrame(
        [
            {
                "validation_id": result.validation_id,
                "run_id": result.run_id,
                "suite": result.suite,
                "target": result.target,
                "batch_label": result.batch_label,
                "check_number": c.number,
                "expectation": c.expectation,
                "column_name": c.column,
                "row_condition": c.condition,
                "severity": c.severity,
                "description": c.description,
                "kwargs": c.kwargs,
                "success": c.success,
                "element_count": c.element_count,
                "unexpected_count": c.unexpected_count,
                "unexpected_percent": c.unexpected_percent,
                "observed_value": c.observed_value,
                "sample": c.sample,
                "exception": c.exception,
                "validated_at": result.finished_at,
            }
            for c in result.checks
        ]
    )
    con.execute("begin transaction")
    try:
        for table, frame in (("dq_runs", run), ("dq_results", results), ("dq_record_flags", flags)):
            if len(frame):
                con.register("_dq_incoming", frame)
                con.execute(f"insert into audit.{table} by name select * from _dq_incoming")
                con.unregister("_dq_incoming")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _flags(result: SuiteResult) -> pd.DataFrame:
    records = result.flagged_records()
    if records.empty:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    out = pd.DataFrame(
        {
            "check_number": records["check_number"].astype("int64"),
            "expectation": records["expectation"],
            "column_name": records["column_name"],
            "severity": records["severity"],
            "key": records["key"].astype(object),
            "value": records["value"].astype(object),
        }
    )
    for name in ("service_id", "_source_file"):
        out[name] = records[name].astype("string").astype(object).where(records[name].notna(), None)
    for name in ("_source_row", "_batch_id"):
        out[name] = pd.to_numeric(records[name], errors="coerce").astype("Int64")
    out.insert(0, "validation_id", result.validation_id)
    out.insert(1, "run_id", result.run_id)
    out.insert(2, "suite", result.suite)
    out.insert(3, "target", result.target)
    out["flagged_at"] = result.finished_at
    return out[list(FLAG_COLUMNS)]


def blocking_failures(result: SuiteResult) -> list[str]:
    """One message per failed blocking check, for the publish gate's error."""
    messages = []
    for c in result.blocking_failures:
        what = f"{c.expectation}({c.column or 'table'})"
        if c.condition:
            what += f" where {c.condition}"
        if c.exception:
            detail = f"could not be evaluated: {c.exception}"
        elif c.unexpected_count is not None:
            share = "" if c.unexpected_percent is None else f" ({c.unexpected_percent:.2f}%)"
            detail = f"{c.unexpected_count:,} of {c.element_count or 0:,} values failed{share}"
            keys = list(dict.fromkeys(c.failing["key"].head(5))) if len(c.failing) else []
            if keys:
                detail += f"; e.g. {', '.join(map(str, keys))}"
        else:
            detail = f"observed {c.observed_value}"
        messages.append(
            f"{result.suite} [{result.batch_label}] blocking check {c.number} {what} failed: {detail} — {c.description}"
        )
    return messages


def latest_runs(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> pd.DataFrame:
    """The recorded validations of one pipeline run (default: the latest), newest first."""
    ensure_dq_schema(con)
    if run_id is None:
        rows = con.execute("select run_id from audit.dq_runs order by finished_at desc limit 1").fetchall()
        if not rows:
            return con.execute("select * from audit.dq_runs limit 0").df()
        run_id = rows[0][0]
    return con.execute("select * from audit.dq_runs where run_id = ? order by finished_at desc", [run_id]).df()


__all__ = ["blocking_failures", "build_data_docs", "ensure_dq_schema", "latest_runs", "record"]
