"""What GX is given: a frame split into the parts GX validates cheaply, each with only the rows and
columns its checks read.

GX's pandas engine applies a row condition by querying its whole batch frame again for every
metric of every conditioned check (about four per check), and it copies the whole frame for each
check that skips rows with missing values (``ignore_row_if``, the null filter of compound keys).
So its cost grows with the frame's width, and with the number of conditions times its length:
the raw suites condition their reference-code and freshness checks on each service.

The runner therefore gives GX the frame in parts, each with only the columns its checks read
(all of those rows, the frame's index and dtypes kept, so failing-row indexes still point into
the frame):

* checks with a row condition, grouped by condition: the rows GX's own filter clause for that
  condition selects (``gx_adapter.filter_clause``, the query GX would run), validated without the
  condition. That is the domain GX would compute the check on; the Data Docs copy shows each
  check with its condition;
* checks without one, grouped by the columns they read: every row of those columns. (GX's null
  filter and ``ignore_row_if`` copy the part's whole frame for each check: a part as wide as
  the union of every check's columns made those copies most of a national raw table's time);
* checks on the table's columns themselves (column set, count, order): the frame's header
  (zero rows, every column).

A condition on a column the frame lacks is left to GX, which reports it as it always has.
Each part costs GX a validation of its own, but a check without a row condition costs GX less
configuration handling than one with, so even a monthly close's small frames gain from this.
Nullable integer columns that only range checks read are given to GX as float64
(``gx_adapter.as_float``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.gx_adapter import HEADER_EXPECTATIONS, Part, as_float, filter_clause, plain
from expectations.suites.base import Check


def gx_parts(frame: pd.DataFrame, checks: list[tuple[int, Check]]) -> list[Part]:
    """The parts of ``frame`` GX validates, covering ``checks`` (see above)."""
    header = [(n, c) for n, c in checks if c.expectation in HEADER_EXPECTATIONS]
    whole: list[tuple[int, Check]] = []
    by_condition: dict[tuple, list[tuple[int, Check]]] = {}
    for n, c in checks:
        if c.expectation in HEADER_EXPECTATIONS:
            continue
        if c.where and all(name in frame.columns for name in c.where):
            by_condition.setdefault(tuple((k, group_key(v)) for k, v in c.where.items()), []).append((n, c))
        else:
            whole.append((n, c))
    parts = [Part(frame.iloc[:0], header)] if header else []
    held: dict[str, tuple[set, bool] | None] = {}
    for members in by_condition.values():
        where = members[0][1].where or {}
        try:
            if meets_no_row(frame, where, held):
                rows = columns_read(frame, members, where).iloc[:0]
            else:
                rows = columns_read(frame, members, where).query(filter_clause(where))
        except Exception:  # leave it to GX, which reports a condition it cannot apply per check
            whole.extend(members)
            continue
        parts.append(as_float(Part(rows, members, prefiltered=True)))
    by_columns: dict[tuple[str, ...], list[tuple[int, Check]]] = {}
    for n, c in sorted(whole, key=lambda nc: nc[0]):
        by_columns.setdefault(tuple(sorted({*c.columns, *(c.where or {})})), []).append((n, c))
    for members in by_columns.values():
        parts.append(as_float(Part(columns_read(frame, members), members)))
    return parts


def meets_no_row(frame: pd.DataFrame, where: dict[str, Any], held: dict[str, tuple[set, bool] | None]) -> bool:
    """True when some column of ``where`` holds no row with the value the condition asks for, so
    GX's filter would select no row; without running the filter (a scan of the frame per condition:
    a chunk holding a few services need not scan for the other forty). Only decided for text and
    integer columns compared with a value of that kind (pandas compares a date column with a string
    by parsing it, say); ``held`` caches each column's values."""
    for name, value in where.items():
        if name not in held:
            column = frame[name]
            dtype = column.dtype
            if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
                held[name] = (set(column.dropna().unique().tolist()), bool(column.isna().any()))
            else:
                held[name] = None
        values = held[name]
        if values is None:
            continue
        comparable = isinstance(value, str | int | np.integer) and not isinstance(value, bool)
        if (value is None and not values[1]) or (comparable and plain(value) not in values[0]):
            return True
    return False


def columns_read(frame: pd.DataFrame, checks: list[tuple[int, Check]], where: dict | None = None) -> pd.DataFrame:
    """``frame``'s columns that ``checks`` (and the condition ``where``) read, in the frame's order."""
    read = {name for _, c in checks for name in (*c.columns, *(c.where or {}))} | set(where or {})
    return frame[[name for name in frame.columns if name in read]]


def group_key(value: Any) -> Any:
    """A grouping or condition value comparable with ``==`` and hashable: nulls as None, numpy as Python."""
    if value is None or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return None
    return plain(value)
