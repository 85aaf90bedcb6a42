"""Validate a pandas DataFrame against a ``Suite`` with Great Expectations (GX Core 1.x): the entry
points ``validate`` and ``validate_chunks``.

The work is split by concern:

* ``expectations.results``: what a validation gives (``CheckResult``, ``SuiteResult``);
* ``expectations.gx_adapter``: everything asked of GX, and the workarounds of GX internals, pinned
  to the GX version in ``pyproject.toml``;
* ``expectations.parts``: what GX is given: each check sees only the columns it reads, and checks
  with a row condition see only the rows GX's filter for that condition selects (one filter per
  condition, not one per metric of every check), so the cost of a suite no longer grows with the
  frame's width times its number of conditions;
* ``expectations.counts``: table row counts under a condition (the raw suites' volume check, one
  per landed period), counted in one grouped pass instead of one GX filter of the whole frame each;
* ``expectations.chunks``: a frame too large to hold at once is validated in chunks, each
  validated as above and freed, and the chunks' results combined into the one result GX gives for
  the whole frame (counts summed, failing records in the frame's order, uniqueness over rows the
  chunks keep together). ``validate`` is one chunk;
* ``expectations.docs``: when ``data_dir`` is given, a trimmed copy of the result (counts and the
  20-row partial lists) is kept in a file context under ``data_dir/gx`` for Data Docs.

Results keep GX's shape. The names below are re-exported so callers import them from here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from expectations.chunks import Merged, chunk_key, columns_read
from expectations.docs import keep_for_docs
from expectations.gx_adapter import docs_context, gx_suite, save_suite, suite_validation_result, to_gx
from expectations.results import SAMPLE_SIZE, CheckResult, SuiteResult
from expectations.suites.base import Suite


def validate(
    suite: Suite,
    frame: pd.DataFrame,
    *,
    run_id: str,
    batch_label: str,
    data_dir: Path | None = None,
    header: pd.DataFrame | None = None,
) -> SuiteResult:
    """Validate ``frame`` against ``suite``; never raises for failing data.

    ``run_id`` groups the validations of one pipeline run; ``batch_label`` says what was validated
    (a file, a batch range, a reporting month). With ``data_dir`` the result is also kept for
    GX Data Docs under ``data_dir/gx``. ``header`` (a frame without rows) gives the source's
    columns to the checks on the table's columns when ``frame`` holds only the columns checks read.
    """
    return validate_chunks(suite, [frame], run_id=run_id, batch_label=batch_label, data_dir=data_dir, header=header)


def validate_chunks(
    suite: Suite,
    chunks: Iterable[pd.DataFrame],
    *,
    run_id: str,
    batch_label: str,
    data_dir: Path | None = None,
    header: pd.DataFrame | None = None,
    order_by: Sequence[str] = (),
) -> SuiteResult:
    """Validate the frame that ``chunks`` make up, holding one chunk at a time, into one result:
    what ``validate`` gives for the whole frame (see ``expectations.chunks``).

    The chunks must keep together the rows the suite's uniqueness checks compare (``chunk_key``),
    as ``expectations.suites.read_chunks`` reads them; ``order_by`` names the columns the whole
    frame is ordered by, and failing records are listed in that order. With more than one chunk,
    a note on the result says how many.
    """
    started = dt.datetime.now()
    merged = Merged(suite, order_by)
    try:
        for frame in chunks:
            merged.add(frame)
            del frame  # free this chunk before the next is read
    finally:  # a stream of chunks left half-read keeps its warehouse connection busy
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    checks, gx_results = merged.finish(header)
    finished = dt.datetime.now()
    notes = list(suite.notes)
    if merged.chunks > 1:
        key = chunk_key(suite)
        note = f"validated in {merged.chunks} chunks of up to {merged.largest:,} rows"
        if key:
            note += f"; rows with equal {', '.join(key)} in the same chunk, so uniqueness is judged over all rows"
        notes.append(note)
    suite_result = SuiteResult(
        validation_id=uuid.uuid4().hex,
        run_id=run_id,
        suite=suite.name,
        target=suite.target,
        batch_label=batch_label,
        key_columns=list(suite.key_columns),
        started_at=started,
        finished_at=finished,
        rows=merged.rows,
        checks=checks,
        notes=notes,
    )
    if data_dir is not None:
        outcome = suite_validation_result(suite, gx_results, merged.meta)
        keep_for_docs(Path(data_dir), suite, outcome, suite_result)
    return suite_result


__all__ = [
    "SAMPLE_SIZE",
    "CheckResult",
    "SuiteResult",
    "chunk_key",
    "columns_read",
    "docs_context",
    "gx_suite",
    "save_suite",
    "to_gx",
    "validate",
    "validate_chunks",
]
