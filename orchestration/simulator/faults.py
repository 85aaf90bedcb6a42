"""Fault injection: which records and files get which data-quality fault, how each fault is
applied to a row, and the ground-truth manifest entries describing them.

Faults are planned from row counts before any file is written (so memory stays per file), then
applied to each file's text rows as it is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from orchestration.ingestion.contracts import FAULT_CLASSES, Entity
from orchestration.simulator.frames import Frame, Row, length
from orchestration.simulator.writers import csv_line

RECORD_CLASSES = tuple(f.name for f in FAULT_CLASSES if f.level == "record")
# Numeric columns populated in clean data (text here is unambiguously a fault).
NUMERIC_TARGETS: dict[str, tuple[str, ...]] = {
    "incidents": (
        "casualties_hospital_serious",
        "casualties_hospital_slight",
        "casualties_first_aid",
        "casualties_precautionary",
        "fatalities",
        "rescues",
        "appliances_attending",
    ),
    "mobilisations": ("pump_order",),
    "staff": ("fte",),
    "absences": ("shifts_lost",),
    "oncall_availability": ("hours_available",),
}
NUMERIC_TEXT = ("two", "n/k", "tbc", "one", "approx 3")
HOURS_TEXT = ("24h", "n/k", "full day", "12 hrs")


@dataclass
class Part:
    entity: Entity
    frame: Frame

    @property
    def rows(self) -> int:
        return length(self.frame)


@dataclass
class FileSpec:
    """One landed file before it is written."""

    system: str
    rel_path: str  # relative to the landing directory, forward slashes
    fmt: str
    parts: list[Part]
    doc: dict | None = None  # planner JSON document
    encoding: str = "utf-8"
    # Schema drift: (renamed column, new name, dropped column).
    drift: tuple[str, str, str] | None = None
    faultable: bool = True


@dataclass(frozen=True)
class Planned:
    fault_class: str
    u: tuple[float, float, float, float]  # uniforms that fix the fault's details


@dataclass
class Plan:
    records: dict[tuple[str, str], dict[int, Planned]] = field(default_factory=dict)

    def classes(self) -> set[str]:
        return {p.fault_class for rows in self.records.values() for p in rows.values()}


def applicable(entity: Entity, fmt: str) -> list[str]:
    out = ["duplicate"]
    if _mandatory_targets(entity):
        out.append("missing_mandatory")
    if entity.sequence:
        out += ["out_of_sequence", "bad_response_time"]
    if entity.not_future:
        out.append("future_date")
    if entity.known_codes:
        out.append("unknown_code")
    if entity.entity in NUMERIC_TARGETS:
        out.append("text_in_numeric")
    if fmt == "csv":
        out.append("malformed_row")
    return out


def _mandatory_targets(entity: Entity) -> list[str]:
    """Required non-key columns, avoiding the period and sequence columns so a blank shows up as
    a missing value and nothing else."""
    cols = [c.name for c in entity.columns if c.required and c.name not in entity.key]
    calm = [c for c in cols if c != entity.period_column and c not in entity.sequence]
    return calm or cols


def plan_record_faults(
    files: list[FileSpec], rate: float, rng: np.random.Generator, guarantee: bool
) -> Plan:
    plan = Plan()
    eligible: list[tuple[tuple[str, str], int, list[str]]] = []
    for f in files:
        if not f.faultable or f.fmt == "json":
            continue
        for part in f.parts:
            classes = applicable(part.entity, f.fmt)
            key = (f.rel_path, part.entity.entity)
            eligible.append((key, part.rows, classes))
            hits = np.flatnonzero(rng.random(part.rows) < rate)
            choice = rng.integers(len(classes), size=len(hits))
            u = rng.random((len(hits), 4))
            if len(hits):
                plan.records[key] = {
                    int(h): Planned(classes[int(c)], tuple(float(x) for x in uu))  # type: ignore[arg-type]
                    for h, c, uu in zip(hits, choice, u, strict=True)
                }
    if guarantee:
        # Every record class at least once, even for a tiny run or a low rate.
        for cls in RECORD_CLASSES:
            if cls in plan.classes():
                continue
            options = [
                (k, n)
                for k, n, classes in eligible
                if cls in classes and n > len(plan.records.get(k, {}))
            ]
            if not options:
                continue
            key, n = options[int(rng.integers(len(options)))]
            taken = plan.records.setdefault(key, {})
            row = int(rng.integers(n))
            while row in taken:
                row = (row + 1) % n
            taken[row] = Planned(cls, tuple(float(x) for x in rng.random(4)))  # type: ignore[arg-type]
    return plan


# ------------------------------------------------------------------------- applying
@dataclass
class Applied:
    """What a fault did to one row; ``raw`` replaces the row by malformed text."""

    detail: str
    extra: dict
    duplicate: bool = False
    raw: str | None = None


def _pick(options: tuple | list, u: float):
    return options[min(int(u * len(options)), len(options) - 1)]


def _parse_stamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _stamp(value: dt.datetime, fmt: str) -> str:
    return value.isoformat(sep="T" if fmt == "jsonl" else " ")


def apply_fault(planned: Planned, entity: Entity, fmt: str, row: Row, as_of: dt.date) -> Applied:
    """Mutate ``row`` (text cells in contract order) to exhibit the planned fault."""
    idx = {c.name: i for i, c in enumerate(entity.columns)}
    u = planned.u
    cls = planned.fault_class
    base = {"entity": entity.entity}
    if entity.sheet:
        base["sheet"] = entity.sheet
    if cls == "duplicate":
        return Applied("exact copy of the previous record", base, duplicate=True)
    if cls == "missing_mandatory":
        col = _pick(_mandatory_targets(entity), u[0])
        old = row[idx[col]]
        row[idx[col]] = None
        return Applied(
            f"required column {col} left empty (was {old!r})",
            base | {"column": col, "original": old},
        )
    if cls == "out_of_sequence":
        a, b = idx["mobilised_at"], idx["mobile_at"]
        row[a], row[b] = row[b], row[a]
        return Applied(
            "mobilised_at and mobile_at swapped: mobile before mobilised",
            base | {"columns": ["mobilised_at", "mobile_at"]},
        )
    if cls == "bad_response_time":
        call = _parse_stamp(row[idx["call_received_at"]])  # type: ignore[arg-type]
        seconds = int(3700 + u[0] * (5 * 3600 - 3700))
        old = row[idx["in_attendance_at"]]
        row[idx["in_attendance_at"]] = _stamp(call + dt.timedelta(seconds=seconds), fmt)
        return Applied(
            f"in_attendance_at set {seconds} s after the call (was {old})",
            base | {"column": "in_attendance_at", "original": old, "seconds": seconds},
        )
    if cls == "future_date":
        col = _pick([c for c in entity.not_future if row[idx[c]] is not None], u[0])
        days = int(400 + u[1] * 1100)
        old = row[idx[col]]
        target = as_of + dt.timedelta(days=days)
        ctype = entity.column(col).type
        if ctype == "date":
            row[idx[col]] = target.isoformat()
        else:
            when = _parse_stamp(old)  # type: ignore[arg-type]
            shifted = dt.datetime.combine(target, when.time())
            delta = shifted - when
            # Mobilising: move the whole record so only the date rule breaks.
            for c in entity.sequence or (col,):
                if row[idx[c]] is not None:
                    row[idx[c]] = _stamp(_parse_stamp(row[idx[c]]) + delta, fmt)  # type: ignore[arg-type]
        return Applied(
            f"{col} moved {days} days after as_of (was {old})",
            base | {"column": col, "original": old, "value": row[idx[col]]},
        )
    if cls == "unknown_code":
        rule = _pick(entity.known_codes, u[0])
        old = row[idx[rule.column]]
        wards = rule.ref_entity == "wards"
        value = f"E05999{int(u[1] * 1000):03d}" if wards else f"ZZ{10 + int(u[1] * 90)}"
        row[idx[rule.column]] = value
        return Applied(
            f"{rule.column} {value!r} is not in reference {rule.ref_entity} (was {old!r})",
            base | {"column": rule.column, "original": old, "value": value},
        )
    if cls == "text_in_numeric":
        col = _pick(NUMERIC_TARGETS[entity.entity], u[0])
        value = _pick(HOURS_TEXT if col == "hours_available" else NUMERIC_TEXT, u[1])
        old = row[idx[col]]
        row[idx[col]] = value
        return Applied(
            f"{col} holds text {value!r} (was {old!r})",
            base | {"column": col, "original": old, "value": value},
        )
    if cls == "malformed_row":
        texts = [
            i
            for i, c in enumerate(entity.columns)
            if c.type == "str"
            and row[i]
            and not set(row[i]) & set(',"')
            and i not in [idx[k] for k in entity.key]
        ]
        if u[0] < 0.5 and texts:
            i = _pick(texts, u[1])
            fields = ["" if v is None else csv_line([v]) for v in row]
            fields[i] = f"{row[i]}, see notes"  # an unquoted comma splits the field
            raw = ",".join(fields)
            return Applied(
                f"unquoted comma in {entity.columns[i].name}: one field too many",
                base | {"column": entity.columns[i].name},
                raw=raw,
            )
        raw = csv_line(row[:-1])
        return Applied(
            f"last field ({entity.columns[-1].name}) missing: one field too few", base, raw=raw
        )
    raise ValueError(cls)


def record_key(entity: Entity, row: Row) -> str:
    idx = {c.name: i for i, c in enumerate(entity.columns)}
    return "|".join("" if row[idx[k]] is None else str(row[idx[k]]) for k in entity.key)
