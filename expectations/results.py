"""What a validation gives: a ``CheckResult`` per check and a ``SuiteResult`` per suite and batch,
made from a GX result's plain dict and the frame's failing rows (no GX objects here).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from expectations.suites.base import LINEAGE, Check

SAMPLE_SIZE = 20
# Hidden columns of failing records from chunks (the frame's order columns), dropped once they are in order.
ORDER = "__frame_order_"


@dataclass
class CheckResult:
    """The outcome of one check. ``failing`` has one row per failing record (row-level checks):
    the suite's key columns, ``key`` (them joined by ``|``), ``value`` (the failing value(s) as
    text) and the lineage columns ``service_id``/``_source_file``/``_source_row``/``_batch_id``
    when the frame has them."""

    number: int
    expectation: str
    column: str | None
    condition: str | None
    severity: str
    description: str
    kwargs: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: str | None
    sample: str
    exception: str | None
    failing: pd.DataFrame

    @property
    def is_blocking_failure(self) -> bool:
        return not self.success and self.severity == "blocking"

    @property
    def is_warning(self) -> bool:
        return not self.success and self.severity == "warning"


@dataclass
class SuiteResult:
    validation_id: str
    run_id: str
    suite: str
    target: str
    batch_label: str
    key_columns: list[str]
    started_at: dt.datetime
    finished_at: dt.datetime
    rows: int
    checks: list[CheckResult]
    notes: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when no blocking check failed (warnings do not fail a run)."""
        return not self.blocking_failures

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.is_blocking_failure]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.is_warning]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def flagged_records(self) -> pd.DataFrame:
        """Every failing record of every check, with the check's number, expectation and severity."""
        frames = []
        for c in self.checks:
            if len(c.failing):
                f = c.failing.copy()
                f.insert(0, "check_number", c.number)
                f.insert(1, "expectation", c.expectation)
                f.insert(2, "column_name", c.column)
                f.insert(3, "severity", c.severity)
                frames.append(f)
        if not frames:
            return pd.DataFrame(columns=["check_number", "expectation", "column_name", "severity", "key", "value"])
        return pd.concat(frames, ignore_index=True)


def check_result(number: int, check: Check, success: bool, result: dict, error: str | None, failing) -> CheckResult:
    """The ``CheckResult`` of a check from GX's result dict (or one made like it), its exception
    message and its failing records."""
    sample = failing.head(SAMPLE_SIZE)
    return CheckResult(
        number=number,
        expectation=check.expectation,
        column=check.column,
        condition=check.condition_text,
        severity=check.severity,
        description=check.description,
        kwargs=_kwargs_text(check),
        success=success,
        element_count=_int(result.get("element_count")),
        unexpected_count=_int(result.get("unexpected_count")),
        unexpected_percent=_float(result.get("unexpected_percent")),
        observed_value=_observed(result),
        sample=_json([{"key": k, "value": v} for k, v in zip(sample["key"], sample["value"], strict=True)])
        if len(sample)
        else "[]",
        exception=error,
        failing=failing,
    )


def failing_records(
    frame: pd.DataFrame, index: list, check: Check, key_columns: list[str], order_by: Sequence[str] = ()
) -> pd.DataFrame:
    """The failing rows' keys, values and lineage; with ``order_by``, also those columns (named
    ``ORDER``, then the position) so that records from several chunks can be put in frame order."""
    rows = frame.loc[index]
    out = pd.DataFrame(index=rows.index)
    keys = [k for k in key_columns if k in rows.columns]
    for k in keys:
        out[k] = rows[k].to_numpy()
    if keys:
        joined = _as_text(rows[keys[0]]).fillna("")
        for k in keys[1:]:
            joined = joined + "|" + _as_text(rows[k]).fillna("")
        out["key"] = joined.to_numpy()
    else:
        out["key"] = rows.index.astype(str)
    columns = [c for c in check.columns if c in rows.columns]
    if len(columns) == 1:
        out["value"] = _as_text(rows[columns[0]]).to_numpy()
    elif columns:
        parts = [f"{c}=" + _as_text(rows[c]).fillna("null") for c in columns]
        value = parts[0]
        for p in parts[1:]:
            value = value + "; " + p
        out["value"] = value.to_numpy()
    else:
        out["value"] = None
    for name in LINEAGE:
        out[name] = rows[name].to_numpy() if name in rows.columns else None
    for position, name in enumerate(order_by):
        if name in rows.columns:
            out[f"{ORDER}{position}"] = rows[name].to_numpy()
    return out.reset_index(drop=True)


def _as_text(series: pd.Series) -> pd.Series:
    """Values as text, nulls as None (vectorised)."""
    text = series.astype("string")
    return text.astype(object).where(text.notna(), None)


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _kwargs_text(check: Check) -> str:
    """Arguments as JSON, long value lists shortened (the full list is in the suite definition)."""
    shown: dict[str, Any] = {}
    for k, v in check.kwargs.items():
        if isinstance(v, list | tuple | set) and len(v) > SAMPLE_SIZE:
            items = list(v)
            shown[k] = f"[{len(items)} values: {', '.join(map(str, items[:5]))}, ...]"
        else:
            shown[k] = v
    if check.where:
        shown["where"] = check.where
    return _json(shown)


def _observed(result: dict[str, Any]) -> str | None:
    if "observed_value" not in result:
        return None
    shown: Any = result["observed_value"]
    if result.get("details"):
        shown = {"observed_value": shown, "details": result["details"]}
    return _json(shown)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
