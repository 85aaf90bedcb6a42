"""Statistical disclosure control for figures that leave the service.

Method (every table below national level)
-----------------------------------------
A dataset is laid out as two-dimensional tables, rows × columns (e.g. ward × month), one table
per *slice* (e.g. incident category) and per count column. Each table gets a total for every row,
every column and a grand total, all summed from the **unrounded** interior counts.

1. **Primary suppression.** Any cell, totals included, whose true value is 1–7 is shown as ``*``.
   Zero is not suppressed: knowing that nothing happened does not identify anyone.
2. **Secondary suppression.** A row or column (totals line included) holding exactly one ``*``
   would let a reader work it out as the total minus the other cells. In every such line the
   smallest visible non-zero cell (ties: interior before total, then position) is suppressed too.
   This repeats until no line holds exactly one ``*``.

   The line rule alone does not stop recovery by combining several lines. Suppressed cells form a
   bipartite graph (rows and columns are nodes, each ``*`` is an edge); with the published totals,
   a ``*`` can be solved exactly if and only if its edge lies on no cycle (it is a *bridge*). For
   example, two separate 2×2 blocks of ``*`` joined by one more ``*`` give the joining cell away.
   So after the line rule, every bridge is closed by suppressing one more cell that connects its
   two sides: the smallest non-zero such cell, or a zero if there is none. The line rule is then
   re-applied and the whole check repeated until stable. Once no bridge is left, no published row
   or column sum, alone or in combination, determines any suppressed cell.
3. **Rounding.** Every visible count, totals included, is rounded to the nearest 5 (0 stays 0;
   8 → 10, 12 → 10, 13 → 15). Counts are whole numbers, so there are no halves to break.
   Published rows therefore need not add up to the published totals.
4. **Percentages and ratios** are computed from the rounded, published figures (the NHS Digital
   convention), so they cannot be used to undo the rounding. Either figure suppressed gives ``*``;
   a zero denominator gives an empty cell.

**Linked tables.** When several slices share their row totals (staff by station, once split by
gender and once by ethnicity), a row total suppressed in one slice is suppressed in every slice,
and suppression is re-run until the set is stable. Otherwise the other table would show the
figure.

**Exemption.** National-level (England) outputs are exempt. They are published unrounded and
unsuppressed, because national totals are far above the threshold and are already published
by the Home Office.

**Limits.** The protection is against exact recovery by the published equations. A reader who
also knows that a ``*`` is at least 1 and at most 7 can narrow ranges, and the rounding (±2) is
what blurs them. Figures released to the same recipient from *different* datasets are not
cross-protected, so each dataset must not be a refinement of another one for the same partner.

The functions here are pure: numbers in, numbers out, no I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPRESSED = "*"
PRIMARY_LOW, PRIMARY_HIGH = 1, 7
ROUNDING_BASE = 5
TOTAL = "Total"
# Marks a ratio whose denominator is the row total of its own table (share of the station's staff).
ROW_TOTAL = "__row_total__"

Published = int | str | None


# --- single cells -------------------------------------------------------------------------


def is_primary(value: int) -> bool:
    """True for a count the threshold rule hides (1–7)."""
    return PRIMARY_LOW <= value <= PRIMARY_HIGH


def round_to_base(value: int, base: int = ROUNDING_BASE) -> int:
    """Round a non-negative whole count to the nearest ``base`` (0 stays 0)."""
    if value < 0:
        raise ValueError(f"counts cannot be negative: {value}")
    return ((value + base // 2) // base) * base


def publish_count(value: int) -> int | str:
    """One cell on its own: ``*`` for 1–7, else rounded to 5. (Secondary suppression needs the table.)"""
    return SUPPRESSED if is_primary(value) else round_to_base(value)


def ratio(numerator: Published, denominator: Published, multiplier: float = 100.0, decimals: int = 1) -> str:
    """A percentage (or other ratio) from published figures: ``*`` if either is suppressed, blank if 0/absent."""
    if numerator == SUPPRESSED or denominator == SUPPRESSED:
        return SUPPRESSED
    if numerator is None or denominator is None or denominator == 0:
        return ""
    return f"{float(numerator) / float(denominator) * multiplier:.{decimals}f}"


# --- one table ---------------------------------------------------------------------------


def with_totals(interior: np.ndarray) -> np.ndarray:
    """Append a row-total column, a column-total row and the grand total, from unrounded counts."""
    interior = np.asarray(interior, dtype=np.int64)
    if interior.ndim != 2:
        raise ValueError("a table must be two-dimensional")
    if (interior < 0).any():
        raise ValueError("counts cannot be negative")
    rows, cols = interior.shape
    grid = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    grid[:rows, :cols] = interior
    grid[:rows, cols] = interior.sum(axis=1)
    grid[rows, :cols] = interior.sum(axis=0)
    grid[rows, cols] = interior.sum()
    return grid


def primary_mask(grid: np.ndarray) -> np.ndarray:
    return (grid >= PRIMARY_LOW) & (grid <= PRIMARY_HIGH)


def _cell_key(grid: np.ndarray, i: int, j: int, *, zero_last: bool) -> tuple:
    """Order candidates: smallest value first, interior before totals, then position (deterministic)."""
    last_row, last_col = grid.shape[0] - 1, grid.shape[1] - 1
    value = int(grid[i, j])
    return (zero_last and value == 0, value, i == last_row or j == last_col, i, j)


def _close_single_lines(grid: np.ndarray, mask: np.ndarray) -> None:
    """The line rule: no row or column may hold exactly one suppressed cell. Mutates ``mask``."""
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):
            for k in range(grid.shape[axis]):
                line = mask[k, :] if axis == 0 else mask[:, k]
                if line.sum() != 1:
                    continue
                values = grid[k, :] if axis == 0 else grid[:, k]
                candidates = np.flatnonzero(~line & (values != 0))
                if candidates.size == 0:
                    # Impossible for a consistent table: the line's total is non-zero and visible,
                    # or it is the suppressed cell and some interior cell is non-zero.
                    raise ValueError("inconsistent table: a line with one suppressed cell has nothing to pair it with")
                cells = [(k, int(c)) if axis == 0 else (int(c), k) for c in candidates]
                i, j = min(cells, key=lambda cell: _cell_key(grid, *cell, zero_last=True))
                mask[i, j] = True
                changed = True


def _bridges(mask: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells that lie on no cycle of the row/column graph (iterative Tarjan)."""
    n_rows, n_cols = mask.shape
    cells = list(zip(*np.nonzero(mask), strict=True))
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n_rows + n_cols)]
    for edge, (i, j) in enumerate(cells):
        adjacency[int(i)].append((n_rows + int(j), edge))
        adjacency[n_rows + int(j)].append((int(i), edge))
    order = [-1] * (n_rows + n_cols)
    low = [0] * (n_rows + n_cols)
    counter = 0
    found: list[tuple[int, int]] = []
    for root in range(n_rows + n_cols):
        if order[root] != -1 or not adjacency[root]:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            descended = False
            for nxt, edge in neighbours:
                if edge == via:
                    continue
                if order[nxt] == -1:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, iter(adjacency[nxt])))
                    descended = True
                    break
                low[node] = min(low[node], order[nxt])
            if descended:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    i, j = cells[via]
                    found.append((int(i), int(j)))
    return found


def _component(mask: np.ndarray, start: tuple[str, int]) -> tuple[set[int], set[int]]:
    """Rows and columns reachable from a row or column node through suppressed cells."""
    rows: set[int] = set()
    cols: set[int] = set()
    queue = deque([start])
    while queue:
        kind, k = queue.popleft()
        if kind == "row":
            if k in rows:
                continue
            rows.add(k)
            queue.extend(("col", int(j)) for j in np.flatnonzero(mask[k, :]) if int(j) not in cols)
        else:
            if k in cols:
                continue
            cols.add(k)
            queue.extend(("row", int(i)) for i in np.flatnonzero(mask[:, k]) if int(i) not in rows)
    return rows, cols


def _close_bridge(grid: np.ndarray, mask: np.ndarray, bridge: tuple[int, int]) -> None:
    """Suppress one cell joining the two sides of ``bridge`` so that it lies on a cycle."""
    r, c = bridge
    without = mask.copy()
    without[r, c] = False
    rows_r, cols_r = _component(without, ("row", r))
    rows_c, cols_c = _component(without, ("col", c))
    candidates = [(i, j) for i in rows_r for j in cols_c] + [(i, j) for i in rows_c for j in cols_r]
    candidates = [cell for cell in candidates if cell != (r, c) and not mask[cell]]
    if not candidates:
        raise ValueError(f"cannot protect suppressed cell {bridge}: no cell joins its two sides")
    i, j = min(candidates, key=lambda cell: _cell_key(grid, *cell, zero_last=True))
    mask[i, j] = True


def secondary_suppression(grid: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    """Extend ``suppressed`` until no suppressed cell of ``grid`` (totals included) can be solved for."""
    mask = np.array(suppressed, dtype=bool, copy=True)
    while True:
        _close_single_lines(grid, mask)
        bridges = _bridges(mask)
        if not bridges:
            return mask
        _close_bridge(grid, mask, bridges[0])


def protect_grid(grid: np.ndarray, forced: np.ndarray | None = None) -> np.ndarray:
    """Suppression mask for a table that already carries totals: primary, forced, then secondary."""
    mask = primary_mask(grid)
    if forced is not None:
        mask |= forced
    return secondary_suppression(grid, mask)


def publish_grid(grid: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Published values: ``*`` where masked, else rounded to 5; ``mask=None`` means exempt (as is)."""
    out = np.empty(grid.shape, dtype=object)
    for (i, j), value in np.ndenumerate(grid):
        if mask is None:
            out[i, j] = int(value)
        else:
            out[i, j] = SUPPRESSED if mask[i, j] else round_to_base(int(value))
    return out


def protect_table(interior: np.ndarray) -> np.ndarray:
    """Convenience: interior counts in, published table with totals (last row/column) out."""
    grid = with_totals(interior)
    return publish_grid(grid, protect_grid(grid))


def protect_linked(grids: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Masks for tables that share their row totals: a row total hidden in one is hidden in all."""
    if not grids:
        return []
    shared = grids[0][:, -1]
    for grid in grids[1:]:
        if grid.shape[0] != grids[0].shape[0] or not np.array_equal(grid[:, -1], shared):
            raise ValueError("linked tables must have the same rows and the same row totals")
    forced_rows = np.zeros(grids[0].shape[0], dtype=bool)
    while True:
        masks = []
        for grid in grids:
            forced = np.zeros(grid.shape, dtype=bool)
            forced[:, -1] = forced_rows
            masks.append(protect_grid(grid, forced))
        union = np.logical_or.reduce([mask[:, -1] for mask in masks])
        if np.array_equal(union, forced_rows):
            return masks
        forced_rows = union


# --- a long data frame of cells ----------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A derived column: ``numerator / denominator × multiplier`` from the published figures."""

    column: str
    numerator: str
    denominator: str  # a count column, or ROW_TOTAL
    multiplier: float = 100.0
    decimals: int = 1


@dataclass(frozen=True)
class TableSpec:
    """How a dataset's cells form 2-D tables for suppression.

    Each distinct value of ``slice_dims`` is its own table of ``row_dim`` × ``col_dim`` for each
    count column. Label columns are attributes of their key (ward name of a ward code) and are
    carried through; on total lines they read "Total".
    """

    row_dim: str
    col_dim: str
    count_columns: tuple[str, ...]
    slice_dims: tuple[str, ...] = ()
    row_labels: tuple[str, ...] = ()
    slice_labels: tuple[str, ...] = ()
    ratios: tuple[Ratio, ...] = ()
    linked_row_totals: bool = False

    @property
    def key_columns(self) -> list[str]:
        return [*self.slice_dims, self.row_dim, self.col_dim]

    @property
    def input_columns(self) -> list[str]:
        return [*self.slice_dims, *self.slice_labels, self.row_dim, *self.row_labels, self.col_dim, *self.count_columns]

    @property
    def output_columns(self) -> list[str]:
        return [*self.input_columns, *(r.column for r in self.ratios)]


def _as_text(value: object) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _interior(frame: pd.DataFrame, spec: TableSpec, count: str, rows: list[str], cols: list[str]) -> np.ndarray | None:
    """The slice's count as a rows × cols matrix (absent cells are zero); None if the count does not apply."""
    values = frame[count]
    if values.isna().all():
        return None
    if values.isna().any():
        raise ValueError(f"{count}: some cells are null and some are not; the query must return 0 for none")
    numbers = pd.to_numeric(values)
    if (numbers != numbers.round()).any():
        raise ValueError(f"{count}: counts must be whole numbers")
    matrix = (
        frame.assign(_v=numbers.astype("int64"))
        .pivot(index=spec.row_dim, columns=spec.col_dim, values="_v")
        .reindex(index=rows, columns=cols)
        .fillna(0)
    )
    return matrix.to_numpy(dtype=np.int64)


def protect_frame(frame: pd.DataFrame, spec: TableSpec, *, exempt: bool = False) -> pd.DataFrame:
    """Apply disclosure control to a long frame of aggregate cells and add total lines.

    ``frame`` has one row per (slice, row, column) cell with the columns of ``spec.input_columns``.
    Returns the published frame (``spec.output_columns``): counts are ints or ``*``.
    ``exempt=True`` (national level) adds totals but neither suppresses nor rounds.
    """
    missing = [c for c in spec.input_columns if c not in frame.columns]
    if missing:
        raise ValueError(f"query result lacks columns {missing}")
    unexpected = [c for c in frame.columns if c not in spec.input_columns]
    if unexpected:
        raise ValueError(f"query result has undeclared columns {unexpected}")
    if frame.duplicated(spec.key_columns).any():
        # One row per cell is what makes this an aggregate; duplicates mean row-level data or a bad join.
        raise ValueError(f"more than one row per {spec.key_columns}: not an aggregate")
    frame = frame.copy()
    for column in [*spec.slice_dims, *spec.slice_labels, spec.row_dim, spec.col_dim]:
        frame[column] = frame[column].map(_as_text)
    # Rows are shared by every slice (linked tables need the same rows); columns belong to their
    # slice (gender and ethnicity have different categories).
    rows = sorted(frame[spec.row_dim].unique())
    slices: list[tuple] = sorted(set(frame[list(spec.slice_dims)].itertuples(index=False, name=None)))
    row_labels = frame.drop_duplicates(spec.row_dim).set_index(spec.row_dim)[list(spec.row_labels)]

    def slice_frame(key: tuple) -> pd.DataFrame:
        if not spec.slice_dims:
            return frame
        match = np.logical_and.reduce([frame[d] == v for d, v in zip(spec.slice_dims, key, strict=True)])
        return frame[match]

    cols = {key: sorted(slice_frame(key)[spec.col_dim].unique()) for key in slices}
    published: dict[str, dict[tuple, np.ndarray | None]] = {}
    for count in spec.count_columns:
        grids = {key: _interior(slice_frame(key), spec, count, rows, cols[key]) for key in slices}
        with_tot = {key: with_totals(m) for key, m in grids.items() if m is not None}
        if exempt:
            masks: Mapping[tuple, np.ndarray | None] = dict.fromkeys(with_tot)
        elif spec.linked_row_totals:
            keys = list(with_tot)
            masks = dict(zip(keys, protect_linked([with_tot[k] for k in keys]), strict=True))
        else:
            masks = {key: protect_grid(grid) for key, grid in with_tot.items()}
        published[count] = {key: publish_grid(with_tot[key], masks[key]) if key in with_tot else None for key in slices}

    records = []
    for key in slices:
        first = slice_frame(key).iloc[0]
        slice_part = dict(zip(spec.slice_dims, key, strict=True)) | {c: first[c] for c in spec.slice_labels}
        for i, row in enumerate([*rows, TOTAL]):
            labels = {c: TOTAL for c in spec.row_labels} if row == TOTAL else row_labels.loc[row].to_dict()
            for j, col in enumerate([*cols[key], TOTAL]):
                record = {**slice_part, spec.row_dim: row, **labels, spec.col_dim: col}
                for count in spec.count_columns:
                    table = published[count][key]
                    record[count] = None if table is None else table[i, j]
                for r in spec.ratios:
                    num_table = published[r.numerator][key]
                    if r.denominator == ROW_TOTAL:
                        den = None if num_table is None else num_table[i, -1]
                    else:
                        den_table = published[r.denominator][key]
                        den = None if den_table is None else den_table[i, j]
                    num = None if num_table is None else num_table[i, j]
                    record[r.column] = ratio(num, den, r.multiplier, r.decimals)
                records.append(record)
    return pd.DataFrame.from_records(records, columns=spec.output_columns)
