"""Build, validate and record in one call: what an ingestion step or the publish gate runs.

``check_raw`` validates the rows of some landed batches of one raw table; ``check_marts`` runs the
mart suites. Both record every result in the warehouse (``expectations.store.record``) and return
the ``SuiteResult``s; a caller that gates on them raises with ``blocking_messages(results)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb

from expectations.runner import SuiteResult, validate
from expectations.store import blocking_failures, record
from expectations.suites import current_batches, load_frame, mart_suites, raw_suites, raw_tables


def check_raw(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batch_ids: Iterable[int] | None = None,
    *,
    run_id: str,
    as_of: dt.date,
    data_dir: Path | None = None,
) -> SuiteResult:
    """Validate and record ``raw.<table>`` for ``batch_ids`` (default: every current batch)."""
    ids = list(batch_ids) if batch_ids is not None else current_batches(con, table)
    suite = raw_suites(con, table, ids, as_of=as_of)
    label = f"batches {ids[0]}..{ids[-1]} ({len(ids)})" if len(ids) > 1 else f"batch {ids[0]}"
    result = validate(suite, load_frame(con, suite), run_id=run_id, batch_label=label, data_dir=data_dir)
    record(con, result)
    return result


def check_all_raw(
    con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: dt.date, data_dir: Path | None = None
) -> list[SuiteResult]:
    """Every raw table with rows, over its current batches."""
    results = []
    for table in raw_tables(con):
        ids = current_batches(con, table)  # ranks the whole table: once, not again in check_raw
        if ids:
            results.append(check_raw(con, table, ids, run_id=run_id, as_of=as_of, data_dir=data_dir))
    return results


def check_marts(
    con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: dt.date, data_dir: Path | None = None
) -> list[SuiteResult]:
    """The mart suites at the reporting cut-off ``as_of``, recorded."""
    label = f"as of {as_of:%Y-%m-%d}"
    results = []
    for suite in mart_suites(as_of):
        result = validate(suite, load_frame(con, suite), run_id=run_id, batch_label=label, data_dir=data_dir)
        record(con, result)
        results.append(result)
    return results


def blocking_messages(results: Iterable[SuiteResult]) -> list[str]:
    return [message for r in results for message in blocking_failures(r)]


__all__ = ["blocking_messages", "check_all_raw", "check_marts", "check_raw"]
