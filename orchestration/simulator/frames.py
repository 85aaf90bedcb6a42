"""Column-oriented tables (dicts of numpy arrays) and their conversion to contract-typed text.

Generation works on whole numpy columns; only the rows of one file at a time are turned into
strings, so memory stays proportional to the largest file, not the whole run.
"""

from __future__ import annotations

import numpy as np

from orchestration.ingestion.contracts import Entity

Frame = dict[str, np.ndarray]
Row = list[str | None]


def take(frame: Frame, index: np.ndarray | slice) -> Frame:
    return {k: v[index] for k, v in frame.items()}


def concat(frames: list[Frame]) -> Frame:
    if not frames:
        return {}
    return {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}


def length(frame: Frame) -> int:
    return len(next(iter(frame.values()))) if frame else 0


def obj(values: object, n: int | None = None) -> np.ndarray:
    """An object array (for text columns, where ``None`` is null)."""
    if n is not None:
        out = np.empty(n, dtype=object)
        out[:] = values
        return out
    arr = np.empty(len(values), dtype=object)  # type: ignore[arg-type]
    arr[:] = list(values)  # type: ignore[call-overload]
    return arr


def format_float(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _format_column(values: np.ndarray, ctype: str, fmt: str) -> list[str | None]:
    if ctype == "str":
        return [None if v is None or v == "" else str(v) for v in values]
    if ctype == "int":
        if values.dtype == object:
            return [None if v is None else str(int(v)) for v in values]
        return values.astype(np.int64).astype(str).tolist()
    if ctype == "float":
        if values.dtype == object:
            return [None if v is None else format_float(float(v)) for v in values]
        return [None if np.isnan(v) else format_float(v) for v in values.tolist()]
    if ctype == "date":
        text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D")
        return [None if t == "NaT" else t for t in text.tolist()]
    if ctype == "timestamp":
        text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
        sep = "T" if fmt == "jsonl" else " "
        return [
            None if t == "NaT" else (t if sep == "T" else t.replace("T", " "))
            for t in text.tolist()
        ]
    if ctype == "bool":
        return [None if v is None else ("Y" if v else "N") for v in values.tolist()]
    raise ValueError(ctype)


def format_rows(entity: Entity, frame: Frame, fmt: str) -> list[Row]:
    """Rows of canonical text cells in contract column order.

    CSV and XLSX timestamps read 'YYYY-MM-DD HH:MM:SS', JSONL 'YYYY-MM-DDTHH:MM:SS';
    booleans are 'Y'/'N' here and become JSON true/false or stay text in the writers.
    """
    n = length(frame)
    if n == 0:
        return []
    cols = [_format_column(frame[c.name], c.type, fmt) for c in entity.columns]
    return [list(r) for r in zip(*cols, strict=True)]
