"""Validating a frame chunk by chunk, and combining the chunks' results into the whole frame's.

A frame too large to hold (a national raw table: millions of rows) is validated in chunks and
the chunks' results combined into the result of the whole frame, by kind of check:

* row-level checks (``ROW_EXPECTATIONS``): GX on each chunk (in parts, ``expectations.parts``);
  element, missing and unexpected counts are summed, success is decided from the sums as GX
  decides it (``mostly`` of the rows considered; vacuously true without any), GX's own formatter
  makes the result from them, and the failing records of all chunks are put in frame order. A
  uniqueness check compares rows with each other, so the chunks must keep rows with equal values
  of its columns together (``chunk_key``); every other row-level check judges each row alone;
* conditional table row counts (the volume checks) are counted per chunk and summed
  (``expectations.counts``);
* a column's minimum or maximum: each chunk keeps the row(s) holding it within each check's
  condition, and GX judges the check once, on those rows (the extreme of the extremes);
* checks on the table's columns: GX once, on the header;
* a check none of whose rows was in any chunk (a condition no row meets, an empty frame), or
  that names a column the frame lacks: GX once, on a frame without rows, as it would see it.

Anything else (a mean, a median, a distinct count…) cannot be combined like this: ``chunk_key``
says so and such a suite is read in one chunk. One chunk gives what GX gives on the frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from expectations import gx_adapter
from expectations.counts import RowCounts, between, is_counted
from expectations.gx_adapter import HEADER_EXPECTATIONS, Part, exception_message, filter_clause
from expectations.parts import group_key, gx_parts, meets_no_row
from expectations.results import ORDER, CheckResult, check_result, failing_records
from expectations.suites.base import LINEAGE, Check, Suite

_EXTREMES = {"ExpectColumnMinToBeBetween": "min", "ExpectColumnMaxToBeBetween": "max"}
_COMPARES_ROWS = frozenset({"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"})
_VALUE = "__gx_value"  # the failing value as GX lists it (for the Data Docs copy's partial lists)


def chunk_key(suite: Suite) -> tuple[str, ...] | None:
    """The columns whose equal values must be in one chunk for ``validate_chunks`` to give the whole
    frame's results: ``()`` when any split will do, ``None`` when the suite needs the whole frame at
    once (a check that cannot be combined over chunks, or uniqueness checks sharing no column)."""
    shared: list[str] | None = None
    for check in suite.checks:
        if check.expectation in _COMPARES_ROWS:
            shared = list(check.columns) if shared is None else [c for c in shared if c in check.columns]
            if not shared:
                return None
        elif not (
            check.is_row_level
            or check.expectation in HEADER_EXPECTATIONS
            or check.expectation in _EXTREMES
            or check.expectation == "ExpectTableRowCountToBeBetween"
        ):
            return None
    return tuple(shared or ())


def columns_read(suite: Suite, columns: Iterable[str]) -> list[str]:
    """Those of ``columns`` that validating ``suite`` reads: the checks' columns and conditions, the
    key, the lineage copied onto failing records and the order columns (in ``columns``' order)."""
    wanted = {*suite.key_columns, *LINEAGE, *suite.order_by}
    for check in suite.checks:
        wanted.update(check.columns)
        wanted.update(check.where or {})
    return [c for c in columns if c in wanted]


@dataclass
class _Tally:
    """A row-level check's counts and failing records over the chunks seen so far."""

    element_count: int = 0
    missing_count: int | None = None  # None: GX does not count missing values for this expectation
    unexpected_count: int = 0
    failing: list[pd.DataFrame] = field(default_factory=list)
    values_complete: bool = True
    error: str | None = None

    def add(self, r: Any, frame: pd.DataFrame, check: Check, key_columns: list[str], order_by: Sequence[str]) -> None:
        error = exception_message(r.exception_info)
        if error is not None:
            self.error = self.error or error
            return
        result = r.result
        self.element_count += int(result.get("element_count") or 0)
        if "missing_count" in result:
            self.missing_count = (self.missing_count or 0) + int(result["missing_count"] or 0)
        self.unexpected_count += int(result.get("unexpected_count") or 0)
        index = result.get("unexpected_index_list") or []
        if index and not isinstance(index[0], dict):
            failing = failing_records(frame, index, check, key_columns, order_by)
            values = result.get("unexpected_list")
            if values is not None and len(values) == len(failing):
                failing[_VALUE] = pd.Series(values, index=failing.index, dtype=object)
            else:
                self.values_complete = False
            self.failing.append(failing)

    def outcome(self, check: Check) -> tuple[bool, dict[str, Any], str | None, pd.DataFrame]:
        if self.error is not None:
            return False, {}, self.error, pd.DataFrame()
        considered = self.element_count - (self.missing_count or 0)
        if self.element_count == 0 or considered == 0:
            success = True  # as GX: vacuously true
        else:
            success = (considered - self.unexpected_count) / considered >= check.kwargs.get("mostly", 1.0)
        failing = _in_frame_order(self.failing)
        values = failing.pop(_VALUE).tolist() if _VALUE in failing.columns else []
        result = gx_adapter.format_row_result(
            success=success,
            element_count=self.element_count,
            nonnull_count=None if self.missing_count is None else considered,
            unexpected_count=self.unexpected_count,
            unexpected_list=values if self.values_complete else [],
        )
        return success, result, None, failing


def _in_frame_order(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Failing records of several chunks, in the whole frame's order (stable: ties keep chunk order)."""
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    hidden = [c for c in out.columns if c.startswith(ORDER)]
    if hidden:  # (a chunk's own rows may be in another order: ``read_chunks`` sorts by its hash first)
        out = out.sort_values(hidden, kind="stable", na_position="last", ignore_index=True).drop(columns=hidden)
    return out


class Merged:
    """A suite's checks over the chunks of a frame seen so far (see above): ``add`` each chunk, then
    ``finish`` gives the whole frame's check results and the GX results for the Data Docs copy."""

    def __init__(self, suite: Suite, order_by: Sequence[str]):
        self.suite = suite
        self.order_by = list(order_by)
        self.numbered = list(enumerate(suite.checks, start=1))
        self.rows = 0
        self.chunks = 0
        self.largest = 0
        self.empty: pd.DataFrame | None = None  # the chunks' columns and types, no rows
        self.kinds: dict[int, str] = {}
        self.counts = RowCounts()
        self.extremes: list[pd.DataFrame] = []
        self.tallies: dict[int, _Tally] = {}
        self.taken: dict[int, Any] = {}  # GX's result as it is, by check number
        self.meta: tuple[dict, Any] | None = None  # a GX outcome's meta and batch id, for the Data Docs copy

    def of_kind(self, *kinds: str) -> list[tuple[int, Check]]:
        return [(n, c) for n, c in self.numbered if self.kinds[n] in kinds]

    def _classify(self, frame: pd.DataFrame) -> dict[int, str]:
        kinds = {}
        for n, c in self.numbered:
            readable = all(name in frame.columns for name in (*c.columns, *(c.where or {})))
            if c.expectation in HEADER_EXPECTATIONS:
                kinds[n] = "header"
            elif is_counted(c, frame):
                kinds[n] = "counted"
            elif not readable:
                kinds[n] = "unreadable"
            elif c.expectation in _EXTREMES:
                kinds[n] = "extreme"
            elif c.is_row_level:
                kinds[n] = "rows"
            else:
                kinds[n] = "other"
        return kinds

    def add(self, frame: pd.DataFrame) -> None:
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
            frame = frame.reset_index(drop=True)
        if self.empty is None:
            self.empty = frame.iloc[:0].copy()
            self.kinds = self._classify(frame)
        elif self.of_kind("other"):
            names = ", ".join(c.expectation for _, c in self.of_kind("other"))
            raise ValueError(f"suite {self.suite.name}: {names} cannot be judged chunk by chunk (see chunk_key)")
        self.chunks += 1
        self.rows += len(frame)
        self.largest = max(self.largest, len(frame))
        self.counts.add(frame, [c for _, c in self.of_kind("counted")])
        self._keep_extremes(frame)
        for part in gx_parts(frame, self.of_kind("rows", "other")):
            if not len(part.frame):
                continue  # no row of this chunk meets the condition; judged at the end if none ever does
            outcome = self._run(part)
            checks = dict(part.checks)
            for r in outcome.results:
                n = r.expectation_config.meta["check_number"]
                if self.kinds[n] == "other":
                    self.taken[n] = r
                else:
                    self.tallies.setdefault(n, _Tally()).add(r, frame, checks[n], self.suite.key_columns, self.order_by)

    def _run(self, part: Part):
        outcome = gx_adapter.run(self.suite, part)
        self.meta = (dict(outcome.meta), outcome.batch_id)
        return outcome

    def _keep_extremes(self, frame: pd.DataFrame) -> None:
        checks = self.of_kind("extreme")
        if not checks or not len(frame):
            return
        read = {name for _, c in checks for name in (*c.columns, *(c.where or {}))}
        data = frame[[name for name in frame.columns if name in read]]
        by_condition: dict[tuple, list[tuple[int, Check]]] = {}
        for n, c in checks:
            by_condition.setdefault(tuple((k, group_key(v)) for k, v in (c.where or {}).items()), []).append((n, c))
        kept = []
        held: dict[str, tuple[set, bool] | None] = {}
        for members in by_condition.values():
            where = members[0][1].where
            if where and meets_no_row(data, where, held):
                continue
            try:
                domain = data.query(filter_clause(where)) if where else data
            except Exception:  # GX reports a condition it cannot apply: any row lets it say so
                domain = data.iloc[:1]
            if not len(domain):
                continue
            for _, check in members:
                kept.append(_extreme_rows(domain, check.columns[0], _EXTREMES[check.expectation]))
        if kept:
            self.extremes.append(pd.concat(kept).copy())

    def finish(self, header: pd.DataFrame | None) -> tuple[list[CheckResult], list[Any]]:
        if self.empty is None:  # no chunk at all: an empty frame
            if header is None:
                raise ValueError(f"suite {self.suite.name}: no frame and no header to validate")
            self.add(header.iloc[:0])
        assert self.empty is not None
        header = self.empty if header is None else header.iloc[:0]
        extremes = pd.concat(self.extremes, ignore_index=True) if self.extremes else self.empty
        unjudged = [(n, c) for n, c in self.of_kind("rows", "other") if n not in self.tallies and n not in self.taken]
        for frame, checks in (
            (header, self.of_kind("header")),
            (extremes, self.of_kind("extreme")),
            (self.empty, [*self.of_kind("unreadable"), *unjudged]),
        ):
            for part in gx_parts(frame, checks):
                for r in self._run(part).results:
                    self.taken[r.expectation_config.meta["check_number"]] = r

        results: list[CheckResult] = []
        gx_results: list[Any] = []
        for number, check in self.numbered:
            failing = pd.DataFrame()
            if number in self.taken:
                r = self.taken[number]
                result = dict(r.result)
                error = exception_message(r.exception_info)
                success = bool(r.success) if error is None else False
                gx_results.append(r)
            else:
                if number in self.tallies:
                    success, result, error, failing = self.tallies[number].outcome(check)
                elif self.kinds[number] == "counted":
                    result = {"observed_value": self.counts.observed(check)}
                    success, error = between(result["observed_value"], check.kwargs), None
                else:
                    success, result, error = False, {}, "GX returned no result"
                gx_results.append(gx_adapter.validation_result(self.suite, number, success, result, error))
            results.append(check_result(number, check, success, result, error, failing))
        return results, gx_results


def _extreme_rows(domain: pd.DataFrame, column: str, which: str) -> pd.DataFrame:
    """The row of ``domain`` holding the minimum or maximum of ``column`` (the first row when the
    column is all null: GX's extreme skips nulls)."""
    values = domain[column]
    present = values.notna()
    if not present.any():
        return domain.iloc[:1]
    try:
        at = values[present].idxmin() if which == "min" else values[present].idxmax()
    except (TypeError, ValueError):  # values pandas cannot order: keep them all for GX to judge
        return domain[present]
    return domain.loc[[at]]
