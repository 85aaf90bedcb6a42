"""Table row counts under a row condition, judged without GX.

A table row count under a row condition (the raw suites' volume check: one per service, period and
batch) is judged from one grouped count of the frame per set of condition columns. Given to GX,
each such expectation filters and copies the whole frame, and GX spends several milliseconds of
configuration handling on each: with one check per landed file that grew with the square of the
data (942 checks took two thirds of the raw gate at 3 services x 5 years). The result has GX's
shape for ExpectTableRowCountToBeBetween (``{"observed_value": rows}``, bounds inclusive unless
``strict_min``/``strict_max``), and the Data Docs copy carries it as a GX validation result.
``RowCounts`` sums the counts over a frame's chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from expectations.parts import group_key
from expectations.suites.base import Check


def is_counted(check: Check, frame: pd.DataFrame) -> bool:
    """True for a table row count whose condition's columns ``frame`` has (judged here, not by GX)."""
    return check.expectation == "ExpectTableRowCountToBeBetween" and all(
        name in frame.columns for name in (check.where or {})
    )


def between(value: float, kwargs: dict[str, Any]) -> bool:
    """GX's judgement of an observed row count against ``min_value``/``max_value`` (and ``strict_*``)."""
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    above = low is None or (value > low if kwargs.get("strict_min") else value >= low)
    below = high is None or (value < high if kwargs.get("strict_max") else value <= high)
    return bool(above and below)


class RowCounts:
    """Rows per value of each set of condition columns, over the chunks added so far."""

    def __init__(self) -> None:
        self.rows = 0
        self.counts: dict[tuple[str, ...], dict[tuple, int]] = {}

    def add(self, frame: pd.DataFrame, checks: Iterable[Check]) -> None:
        """Count ``frame``'s rows for the conditions of ``checks`` (the counted ones)."""
        self.rows += len(frame)
        for columns in dict.fromkeys(tuple(c.where or {}) for c in checks):
            if not columns:
                continue  # the whole frame's rows: ``self.rows``
            counts = self.counts.setdefault(columns, {})
            sizes = frame.groupby(list(columns), dropna=False, sort=False, observed=True).size()
            for key, n in sizes.items():
                values = tuple(group_key(v) for v in (key if isinstance(key, tuple) else (key,)))
                counts[values] = counts.get(values, 0) + int(n)  # null spellings (None, NaN, NA) are one group

    def observed(self, check: Check) -> int:
        """The rows counted under ``check``'s condition (every row without one)."""
        columns = tuple(check.where or {})
        if not columns:
            return self.rows
        return self.counts.get(columns, {}).get(tuple(group_key(check.where[c]) for c in columns), 0)
