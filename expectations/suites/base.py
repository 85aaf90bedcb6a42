"""The vocabulary of a suite: a ``Check`` is one GX expectation with a severity, a ``Suite`` a named
list of checks over one target table, with the key columns that identify a failing record.

Suites are data, not GX objects, so they can be built from the warehouse, printed, compared in
tests and recorded; ``expectations.gx_adapter`` turns them into GX expectations when the runner
validates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

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
    parameters and ``order_by`` the columns its rows are ordered by (failing records are listed in
    that order). ``chunk_by`` names columns whose rows are best validated together when the frame
    is read in chunks (the raw suites' per-service checks then run once per chunk that holds the
    service rather than once per chunk); see ``read_chunks``. ``notes`` say which checks were left
    out and why.
    """

    name: str
    target: str
    checks: list[Check]
    key_columns: list[str]
    query: str | None = None
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] | None = None
    order_by: tuple[str, ...] = ()
    chunk_by: tuple[str, ...] = ()

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


def read_header(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    """The suite's frame without rows: every column the query returns, for the checks on the columns."""
    return con.execute(f"{_ordered(suite, order=())} limit 0", suite.params).df()


def read_chunks(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    *,
    columns: Sequence[str] | None = None,
    rows: int | None = None,
    together: Sequence[str] = (),
) -> Iterator[pd.DataFrame]:
    """The suite's frame (only ``columns``, default all) in frames of about ``rows`` rows each (``None``:
    one frame), read as a stream so that only one frame is held at a time. Yields at least one frame.

    Rows equal on every ``together`` column are in the same frame, so a uniqueness check over those
    columns sees all of them: the rows are ordered by a hash of those columns and a frame ends only
    where the hash changes, so a frame holds ``rows`` rows plus at most the rest of one run of equal
    hashes (a value's duplicates and any hash collisions). ``suite.chunk_by`` columns go first in
    that order where ``together`` allows it. Inside a frame rows follow ``suite.order_by`` after
    those; the runner lists failing records in ``order_by`` order across frames.

    DuckDB keeps the sort within its memory limit (spilling to disk); each frame is converted to
    pandas by DuckDB as ``load_frame`` converts the whole result, so its columns have the types
    they would have there (a nullable integer column is ``Int64`` in a frame with nulls, ``int64``
    in one without, as in a whole frame with or without them).
    """
    select = "*" if columns is None else ", ".join(quote(c) for c in columns)
    if rows is None:
        yield con.execute(_ordered(suite, select), suite.params).df().reset_index(drop=True)
        return
    if rows < 1:
        raise ValueError(f"rows must be positive, not {rows}")
    together = list(together)
    first = [quote(c) for c in suite.chunk_by if not together or c in together]
    split = f"hash({', '.join(quote(c) for c in together)})" if together else None
    order = [*first, *([_SPLIT] if split else []), *(quote(c) for c in suite.order_by)]
    timezone = con.execute("select current_setting('TimeZone')").fetchall()[0][0]
    converter = duckdb.connect()  # converts frames while ``con`` streams; same time zone as ``con``
    converter.execute(f"set TimeZone = {sql_literal(timezone)}")
    # ``con`` runs nothing else until the stream is read or closed (DuckDB refuses: an open result).
    stream = con.sql(_ordered(suite, select + (f", {split} as {_SPLIT}" if split else ""), order), params=suite.params)
    reader = stream.to_arrow_reader(min(rows, 65_536))
    try:
        pending: list[pa.RecordBatch] = []
        held = 0
        yielded = False
        for batch in reader:
            pending.append(batch)
            held += batch.num_rows
            while held > rows:
                table = pa.Table.from_batches(pending)
                cut = _cut(table, rows, split is not None)
                if cut is None:  # one run of equal hashes so far: read on
                    break
                frame = _to_frame(converter, table.slice(0, cut))
                rest = table.slice(cut)
                pending, held = rest.to_batches(), rest.num_rows
                del table, rest  # hold no Arrow copy of the frame while it is validated
                yield frame
                del frame  # nor the frame while the next is read
                yielded = True
        if held or not yielded:
            frame = _to_frame(converter, pa.Table.from_batches(pending, schema=reader.schema))
            pending = []
            yield frame
    finally:
        converter.close()
        reader.close()


_SPLIT = "_dq_chunk_hash"


def _cut(table: pa.Table, rows: int, by_hash: bool) -> int | None:
    """Where the first frame of ``table`` ends: at ``rows``, or (by hash) at the first change of hash from there."""
    if not by_hash:
        return rows
    hashes = table.column(_SPLIT).to_numpy()
    changes = np.flatnonzero(hashes[rows:] != hashes[rows - 1 : -1])
    return rows + int(changes[0]) if len(changes) else None


def _to_frame(converter: duckdb.DuckDBPyConnection, table: pa.Table) -> pd.DataFrame:
    if _SPLIT in table.column_names:
        table = table.drop_columns([_SPLIT])
    return converter.from_arrow(table).df().reset_index(drop=True)


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
