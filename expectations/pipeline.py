"""Build, validate and record in one call: what an ingestion step or the publish gate runs.

``check_raw`` validates the rows of some landed batches of one raw table; ``check_marts`` runs the
mart suites. Both record every result in the warehouse (``expectations.store.record``) and return
the ``SuiteResult``s; a caller that gates on them raises with ``blocking_messages(results)``.

A suite's frame is read from the warehouse in chunks of about ``CHUNK_ROWS`` rows, holding one at
a time, and the chunks' results are combined into one result per suite (one ``audit.dq_runs``
row, as for a frame read whole; its notes say how many chunks): a national raw table has millions
of rows, and held whole with GX's working copies it took several GiB. Only the columns the checks
read are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb

from expectations.runner import SuiteResult, chunk_key, columns_read, validate_chunks
from expectations.store import blocking_failures, record
from expectations.suites import Suite, current_batches, mart_suites, raw_suites, raw_tables, read_chunks, read_header

# Rows per chunk: about 0.5 GiB of pandas frame and GX working copies at the widest raw table's
# needed columns; fewer chunks cost less (each runs every unconditioned check once more).
CHUNK_ROWS = 300_000


def validate_suite(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    *,
    run_id: str,
    batch_label: str,
    data_dir: Path | None = None,
    chunk_rows: int | None = CHUNK_ROWS,
) -> SuiteResult:
    """Validate the frame of ``suite``'s query in chunks of about ``chunk_rows`` rows (``None``: whole)."""
    header = read_header(con, suite)
    together = chunk_key(suite)
    chunks = read_chunks(
        con,
        suite,
        columns=columns_read(suite, header.columns),
        rows=None if together is None else chunk_rows,
        together=together or (),
    )
    return validate_chunks(
        suite,
        chunks,
        run_id=run_id,
        batch_label=batch_label,
        data_dir=data_dir,
        header=header,
        order_by=suite.order_by,
    )


def check_raw(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batch_ids: Iterable[int] | None = None,
    *,
    run_id: str,
    as_of: dt.date,
    data_dir: Path | None = None,
    chunk_rows: int | None = CHUNK_ROWS,
) -> SuiteResult:
    """Validate and record ``raw.<table>`` for ``batch_ids`` (default: every current batch)."""
    ids = list(batch_ids) if batch_ids is not None else current_batches(con, table)
    suite = raw_suites(con, table, ids, as_of=as_of)
    label = f"batches {ids[0]}..{ids[-1]} ({len(ids)})" if len(ids) > 1 else f"batch {ids[0]}"
    result = validate_suite(con, suite, run_id=run_id, batch_label=label, data_dir=data_dir, chunk_rows=chunk_rows)
    record(con, result)
    return result


def check_all_raw(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    as_of: dt.date,
    data_dir: Path | None = None,
    chunk_rows: int | None = CHUNK_ROWS,
) -> list[SuiteResult]:
    """Every raw table with rows, over its current batches."""
    results = []
    for table in raw_tables(con):
        ids = current_batches(con, table)  # ranks the whole table: once, not again in check_raw
        if ids:
            results.append(
                check_raw(con, table, ids, run_id=run_id, as_of=as_of, data_dir=data_dir, chunk_rows=chunk_rows)
            )
    return results


def check_marts(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    as_of: dt.date,
    data_dir: Path | None = None,
    chunk_rows: int | None = CHUNK_ROWS,
    invocation_id: str | None = None,
) -> list[SuiteResult]:
    """The mart suites at the reporting cut-off ``as_of``, recorded; with ``invocation_id``, over the
    months that dbt invocation rewrote (``mart_suites``)."""
    results = []
    for suite in mart_suites(as_of, invocation_id):
        label = f"as of {as_of:%Y-%m-%d}"
        if "invocation" in (suite.params or {}):  # the suites that read only what the build rewrote
            label += f", months rewritten by dbt invocation {invocation_id}"
        result = validate_suite(con, suite, run_id=run_id, batch_label=label, data_dir=data_dir, chunk_rows=chunk_rows)
        record(con, result)
        results.append(result)
    return results


def blocking_messages(results: Iterable[SuiteResult]) -> list[str]:
    return [message for r in results for message in blocking_failures(r)]


__all__ = ["CHUNK_ROWS", "blocking_messages", "check_all_raw", "check_marts", "check_raw", "validate_suite"]
