"""The vocabulary of a suite: a ``Check`` is one GX expectation with a severity, a ``Suite`` a named
list of checks over one target table, with the key columns that identify a failing record.

Suites are data, not GX objects, so they can be built from the warehouse, printed, compared in
tests and recorded; ``expectations.runner`` turns them into GX expectations when it validates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import pandas as pd

Severity = Literal["blocking", "warning"]
SEVERITIES: tuple[str, ...] = ("blocking", "warning")

# Expectations that judge each row (a failing row is a flagged record) rather than the table.
ROW_EXPECTATIONS = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeNull",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToNotBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToMatchRegex",
        "ExpectColumnValuesToNotMatchRegex",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        "ExpectColumnPairValuesToBeEqual",
        "ExpectCompoundColumnsToBeUnique",
        "ExpectMulticolumnSumToEqual",
        "ExpectSelectColumnValuesToBeUniqueWithinRecord",
    }
)

# Columns copied onto each failing record when the frame has them (raw tables' lineage).
LINEAGE = ("service_id", "_source_file", "_source_row", "_batch_id")


@dataclass(frozen=True)
class Check:
    """One expectation: a GX class name (``ExpectColumnValuesToNotBeNull``), its arguments, how bad a
    failure is and a sentence saying what it protects.

    ``where`` restricts the rows the expectation sees to those whose columns equal the given values
    (ANDed; ``None`` means the column is null); the runner passes it to GX as a row condition.
    """

    expectation: str
    kwargs: dict[str, Any]
    severity: Severity
    description: str
    where: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if not self.expectation.startswith("Expect"):
            raise ValueError(f"{self.expectation!r} is not a GX expectation class name")

    @property
    def columns(self) -> list[str]:
        """The data columns the expectation reads, in the order its arguments name them."""
        kw = self.kwargs
        if "column" in kw:
            return [kw["column"]]
        if "column_A" in kw:
            return [kw["column_A"], kw["column_B"]]
        if "column_list" in kw:
            return list(kw["column_list"])
        return []

    @property
    def column(self) -> str | None:
        """Columns as one label for reports (``None`` for table-level expectations)."""
        return ",".join(self.columns) or None

    @property
    def is_row_level(self) -> bool:
        return self.expectation in ROW_EXPECTATIONS

    @property
    def condition_text(self) -> str | None:
        if not self.where:
            return None
        return " and ".join(f"{k} is null" if v is None else f"{k} = {v!r}" for k, v in self.where.items())


@dataclass
class Suite:
    """Checks over one target (``raw.irs__incidents``, ``marts.rpt_kpi_monthly``…).

    ``key_columns`` identify a record in the validated frame (a failing record is reported by
    them). ``query`` is the SQL that reads the frame from the warehouse, with ``params`` for its
    parameters and ``order_by`` the columns its rows are ordered by. ``notes`` say which checks
    were left out and why.
    """

    name: str
    target: str
    checks: list[Check]
    key_columns: list[str]
    query: str | None = None
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] | None = None
    order_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key_columns:
            raise ValueError(f"suite {self.name}: key_columns must name at least one column")

    def count(self, severity: Severity | None = None) -> int:
        return sum(1 for c in self.checks if severity is None or c.severity == severity)


def _ordered(suite: Suite, select: str = "*", order: Sequence[str] | None = None) -> str:
    if suite.query is None:
        raise ValueError(f"suite {suite.name} has no query: its frame comes with it")
    order = [quote(c) for c in suite.order_by] if order is None else list(order)
    return f"select {select} from ({suite.query}) as _q" + (f" order by {', '.join(order)}" if order else "")


def load_frame(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    """Run a suite's query and return its rows in order, with a fresh 0..n-1 index (the runner relies on it)."""
    return con.execute(_ordered(suite), suite.params).df().reset_index(drop=True)


def sql_literal(value: object) -> str:
    """A value as a SQL literal (strings quoted, ``None`` as null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
