"""Type and validate a string-valued extract against its contract, row by row but vectorised.

Returns the typed good rows and, for every other row, a quarantine reason. The engine loads
the first and quarantines the second, so every received row ends up in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.ingestion.contracts import FALSE_VALUES, TRUE_VALUES, Column, Entity
from orchestration.ingestion.readers import ROW_COLUMN

REDACTED = "[redacted]"


def stored_name(column: Column) -> str:
    """A pseudonymised ``staff_number`` is stored as ``staff_key`` so nobody mistakes it."""
    if column.pseudonymise:
        return column.name.removesuffix("_number").removesuffix("_id") + "_key"
    return column.name


class Pseudonymiser:
    """Keyed hash (HMAC-SHA256) of identifiers; the key lives outside the repository."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("pseudonymisation key must be at least 16 bytes")
        self._key = key

    def __call__(self, service_id: str, value: str) -> str:
        digest = hmac.new(self._key, f"{service_id}:{value}".encode(), hashlib.sha256)
        return "p_" + digest.hexdigest()[:20]


@dataclass
class Validated:
    good: pd.DataFrame  # typed, stored column names, plus _source_row
    rejected_rows: np.ndarray  # _source_row values
    reasons: list[str]
    raw_texts: list[str]


_INT_PATTERN = r"^[+-]?\d+(?:\.0*)?$"


def _cast(column: Column, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (typed values, mask of non-null values that failed to parse)."""
    present = values.notna()
    text = values.where(present, None)
    if column.type == "str":
        return text, pd.Series(False, index=values.index)
    stripped = text.str.strip()
    if column.type == "int":
        ok = stripped.str.fullmatch(_INT_PATTERN).fillna(False).astype(bool)
        typed = pd.to_numeric(stripped.where(ok), errors="coerce").round().astype("Int64")
        return typed, present & ~ok
    if column.type == "float":
        typed = pd.to_numeric(stripped, errors="coerce").astype("Float64")
        bad = present & typed.isna()
        return typed, bad
    if column.type == "date":
        ok = stripped.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
        typed = pd.to_datetime(stripped.where(ok), format="%Y-%m-%d", errors="coerce")
        return typed.dt.date.where(typed.notna(), None), present & typed.isna()
    if column.type == "timestamp":
        pattern = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
        ok = stripped.str.fullmatch(pattern).fillna(False).astype(bool)
        # Offsets are converted to UTC; timestamps without one are kept as given (local time).
        zoned = ok & stripped.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).astype(bool)
        plain = pd.to_datetime(
            stripped.where(ok & ~zoned).str.replace("T", " ", regex=False), format="ISO8601", errors="coerce"
        )
        if zoned.any():
            utc = pd.to_datetime(stripped.where(zoned), format="ISO8601", errors="coerce", utc=True).dt.tz_localize(
                None
            )
            plain = plain.where(~zoned, utc.astype(plain.dtype))
        return plain, present & plain.isna()
    if column.type == "bool":
        lowered = stripped.str.lower()
        typed = pd.Series(
            np.where(lowered.isin(TRUE_VALUES), True, np.where(lowered.isin(FALSE_VALUES), False, None)),
            index=values.index,
            dtype="boolean",
        )
        return typed, present & typed.isna()
    raise ValueError(column.type)


def _describe(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def validate(
    entity: Entity,
    records: pd.DataFrame,
    *,
    service_id: str,
    pseudonymise: Pseudonymiser,
    loaded_at: dt.datetime,
    period: str | None = None,
    known_codes: Mapping[tuple[str, str], set[str]] | None = None,
) -> Validated:
    """Type ``records`` (strings) by the contract and collect every reason a row is refused.

    ``period`` is a monthly file's ``YYYY-MM``: dated records must fall inside it.
    ``known_codes`` maps (ref_entity, ref_column) to the service's codes; a missing entry
    means the service has no such reference and the rule is skipped.
    """
    n = len(records)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def flag(mask: pd.Series | np.ndarray, message: str | pd.Series) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if isinstance(message, pd.Series):
            for i in idx:
                reasons[i].append(message.iloc[i])
        else:
            for i in idx:
                reasons[i].append(message)

    # Normalise blanks: whitespace-only values count as missing.
    frame = records.copy()
    for c in entity.columns:
        s = frame[c.name]
        frame[c.name] = s.where(s.isna() | (s.astype("string").str.strip() != ""), None)

    typed: dict[str, pd.Series] = {}
    for c in entity.columns:
        s = frame[c.name]
        if c.required or c.name in entity.key:
            flag(s.isna(), f"column {c.name}: required value missing")
        values, bad = _cast(c, s)
        if bad.any():
            flag(bad, s.map(lambda v, c=c: f"column {c.name}: {_describe(v)} is not a valid {c.type}"))
        if c.allowed is not None:
            allowed = {a.lower() for a in c.allowed}
            not_allowed = s.notna() & ~s.astype("string").str.strip().str.lower().isin(allowed).fillna(False)
            if not_allowed.any():
                flag(not_allowed, s.map(lambda v, c=c: f"column {c.name}: {_describe(v)} is not an allowed code"))
            values = values.where(~not_allowed, None)
        if c.minimum is not None or c.maximum is not None:
            numeric = pd.to_numeric(values, errors="coerce")
            lo = -np.inf if c.minimum is None else c.minimum
            hi = np.inf if c.maximum is None else c.maximum
            out = numeric.notna() & ((numeric < lo) | (numeric > hi))
            if out.any():
                flag(out, s.map(lambda v, c=c, lo=lo, hi=hi: f"column {c.name}: {_describe(v)} outside {lo:g}..{hi:g}"))
        typed[c.name] = values

    # Timestamps in sequence (compared with the latest earlier non-null stage).
    if entity.sequence:
        running: pd.Series | None = None
        running_name = pd.Series([None] * n, dtype=object)
        for name in entity.sequence:
            current = pd.to_datetime(typed[name])
            if running is not None:
                backwards = current.notna() & running.notna() & (current < running)
                if backwards.any():
                    flag(
                        backwards,
                        running_name.map(lambda prev, name=name: f"timestamps out of sequence: {name} before {prev}"),
                    )
                later = current.notna() & (running.isna() | (current >= running))
                running = current.where(later, running)
                running_name = running_name.where(~later, name)
            else:
                running = current
                running_name = pd.Series(np.where(current.notna(), name, None), dtype=object)

    if entity.elapsed_bounds:
        start, end, lo, hi = entity.elapsed_bounds
        seconds = (pd.to_datetime(typed[end]) - pd.to_datetime(typed[start])).dt.total_seconds()
        out = seconds.notna() & ((seconds < lo) | (seconds > hi))
        if out.any():
            flag(out, seconds.map(lambda v: f"elapsed {start} to {end} of {v:.0f} s outside {lo:g}..{hi:g} s"))

    # Dates: not after the load time, and inside a monthly file's period.
    period_start = period_end = None
    if period and entity.delivery == "monthly":
        period_start = pd.Timestamp(f"{period}-01")
        period_end = period_start + pd.offsets.MonthBegin(1)
    for name in entity.not_future:
        when = pd.to_datetime(typed[name])
        future = when.notna() & (when > pd.Timestamp(loaded_at))
        if future.any():
            flag(
                future,
                when.map(lambda v, name=name: f"column {name}: {v:%Y-%m-%d} is in the future", na_action="ignore"),
            )
    if period_start is not None and entity.period_column:
        name = entity.period_column
        when = pd.to_datetime(typed[name])
        outside = when.notna() & ((when < period_start) | (when >= period_end))
        if outside.any():
            flag(
                outside,
                when.map(
                    lambda v, name=name: f"column {name}: {v:%Y-%m-%d} outside the file's period {period}",
                    na_action="ignore",
                ),
            )

    for rule in entity.known_codes:
        codes = (known_codes or {}).get((rule.ref_entity, rule.ref_column))
        if codes is None:
            continue
        s = typed[rule.column]
        unknown = s.notna() & ~s.isin(codes)
        if unknown.any():
            flag(
                unknown,
                s.map(lambda v, rule=rule: f"column {rule.column}: code {_describe(v)} not in {rule.ref_entity}"),
            )

    # Pseudonymise before the duplicate check so stored keys are what we compare.
    out_cols: dict[str, pd.Series] = {}
    for c in entity.loaded_columns:
        values = typed[c.name]
        if c.pseudonymise:
            values = values.map(lambda v: None if pd.isna(v) else pseudonymise(service_id, str(v).strip()))
        out_cols[stored_name(c)] = values
    good_frame = pd.DataFrame(out_cols, index=frame.index)
    good_frame[ROW_COLUMN] = frame[ROW_COLUMN].to_numpy()

    # Duplicate keys within the file: the first otherwise-valid occurrence is kept.
    key_cols = [stored_name(entity.column(k)) for k in entity.key]
    clean_idx = np.flatnonzero([not r for r in reasons])
    if len(clean_idx):
        key_frame = good_frame.iloc[clean_idx][key_cols].astype("string").fillna("")
        keys = key_frame[key_cols[0]]
        for extra in key_cols[1:]:
            keys = keys + "|" + key_frame[extra]
        dup = keys.duplicated(keep="first").to_numpy()
        if dup.any():
            source_rows = good_frame[ROW_COLUMN].to_numpy()[clean_idx]
            first_at: dict[str, int] = {}
            for pos, (key, is_dup) in enumerate(zip(keys.to_numpy(), dup, strict=True)):
                if is_dup:
                    reasons[clean_idx[pos]].append(f"duplicate key {key} (first at row {first_at[key]})")
                else:
                    first_at.setdefault(key, int(source_rows[pos]))

    bad = np.array([bool(r) for r in reasons], dtype=bool)
    raw_texts = _raw_texts(entity, records.loc[bad], service_id, pseudonymise)
    return Validated(
        good=good_frame.loc[~bad].reset_index(drop=True),
        rejected_rows=records.loc[bad, ROW_COLUMN].to_numpy(),
        reasons=["; ".join(r) for r, b in zip(reasons, bad, strict=True) if b],
        raw_texts=raw_texts,
    )


def _raw_texts(entity: Entity, rows: pd.DataFrame, service_id: str, pseudonymise: Pseudonymiser) -> list[str]:
    """The quarantined row as received, minus personal data (names redacted, ids pseudonymised)."""
    personal = {c.name for c in entity.columns if c.personal}
    hashed = {c.name for c in entity.columns if c.pseudonymise}
    texts = []
    for record in rows.drop(columns=[ROW_COLUMN]).to_dict(orient="records"):
        safe = {}
        for k, v in record.items():
            if k in personal and not pd.isna(v):
                v = REDACTED
            elif k in hashed and not pd.isna(v):
                v = pseudonymise(service_id, str(v).strip())
            safe[k] = v
        texts.append(json.dumps(safe, ensure_ascii=False, default=str))
    return texts
