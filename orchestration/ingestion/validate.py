"""Type and validate a string-valued extract against its contract, row by row but vectorised.

Returns the typed good rows and, for every other row, a quarantine reason. The engine loads
the first and quarantines the second, so every received row ends up in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.ingestion.contracts import FALSE_VALUES, TRUE_VALUES, Column, Entity, KnownCode
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
    # Which file (index into ``files``) each good and each rejected row came from.
    good_files: np.ndarray | None = None
    rejected_files: np.ndarray | None = None


@dataclass(frozen=True)
class FileSpan:
    """One file's rows inside a multi-file ``records`` frame (``start:stop``, in file order).

    ``service_id`` and ``known_codes`` are the file's service and that service's reference codes
    when the files checked together belong to several services (None: the call's).
    """

    start: int
    stop: int
    period: str | None = None
    columns: tuple[str, ...] = ()  # the file's own column order (for the quarantined row text)
    service_id: str | None = None
    known_codes: Mapping[tuple[str, str], set[str]] | None = None


# ASCII digits only ([0-9], not \d, which in Python matches any script's digits), and no year 0000:
# such values are refused with a reason rather than loaded as null or crashing the cast.
_INT_PATTERN = r"^[+-]?[0-9]+(?:\.0*)?$"
_INT_MAX_DIGITS = 18  # every integer of up to 18 digits fits in 64 bits; no contract range is wider
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DATE_PATTERN = _YEAR + r"-[0-9]{2}-[0-9]{2}"
_TIMESTAMP_PATTERN = _DATE_PATTERN + r"[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?"
_ZONE_PATTERN = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
# What str.strip() removes from an ASCII string.
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _cast(column: Column, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (typed values, mask of non-null values that failed to parse)."""
    present = values.notna()
    text = values.where(present, None)
    if column.type == "str":
        return text, pd.Series(False, index=values.index)
    stripped = text.str.strip()
    if column.type == "int":
        ok = stripped.str.fullmatch(_INT_PATTERN).fillna(False).astype(bool)
        digits = stripped.where(ok).str.split(".").str[0].str.lstrip("+-").str.lstrip("0").str.len()
        ok &= (digits <= _INT_MAX_DIGITS).fillna(False).astype(bool)
        typed = pd.to_numeric(stripped.where(ok), errors="coerce").round().astype("Int64")
        return typed, present & ~ok
    if column.type == "float":
        typed = pd.to_numeric(stripped, errors="coerce").astype("Float64")
        bad = present & typed.isna()
        return typed, bad
    if column.type == "date":
        ok = stripped.str.fullmatch(_DATE_PATTERN).fillna(False).astype(bool)
        typed = pd.to_datetime(stripped.where(ok), format="%Y-%m-%d", errors="coerce")
        return typed.dt.date.where(typed.notna(), None), present & typed.isna()
    if column.type == "timestamp":
        ok = stripped.str.fullmatch(_TIMESTAMP_PATTERN).fillna(False).astype(bool)
        # Offsets are converted to UTC; timestamps without one are kept as given (local time).
        zoned = ok & stripped.str.contains(_ZONE_PATTERN, regex=True).fillna(False).astype(bool)
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


def _cast_timestamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``_cast`` for a timestamp column of non-null strings, with the pattern tests done by Arrow.

    Only ASCII strings take this way (there Python's ``str.strip``, ``\d`` and ``$`` mean what
    Arrow's do); any other string goes through ``_cast`` itself. Parsing is pandas' in both.
    """
    arr = pa.array(values.to_numpy(dtype=object), type=pa.string())
    ascii_mask = pc.string_is_ascii(arr).to_numpy(zero_copy_only=False)
    if not ascii_mask.all():
        column = Column("timestamp_column", "timestamp")
        fast_typed, fast_bad = _cast_timestamps(values[ascii_mask])
        slow_typed, slow_bad = _cast(column, values[~ascii_mask])
        typed = pd.concat([fast_typed, slow_typed]).reindex(values.index)
        return typed, pd.concat([fast_bad, slow_bad]).reindex(values.index)
    stripped = pc.utf8_trim(arr, characters=_ASCII_WHITESPACE)
    ok = pc.match_substring_regex(stripped, f"^(?:{_TIMESTAMP_PATTERN})$")
    zoned = pc.and_(ok, pc.match_substring_regex(stripped, _ZONE_PATTERN))
    to_parse = pc.if_else(pc.and_(ok, pc.invert(zoned)), pc.replace_substring(stripped, "T", " "), None)
    plain = pd.to_datetime(
        pd.Series(to_parse.to_numpy(zero_copy_only=False), index=values.index, dtype=object),
        format="ISO8601",
        errors="coerce",
    )
    zoned_mask = pd.Series(zoned.to_numpy(zero_copy_only=False), index=values.index)
    if zoned_mask.any():
        text = pd.Series(pc.if_else(zoned, stripped, None).to_numpy(zero_copy_only=False), index=values.index)
        utc = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
        plain = plain.where(~zoned_mask, utc.astype(plain.dtype))
    return plain, plain.isna()


def _batch_sensitive(column: Column, values: pd.Series) -> bool:
    """Would casting these values together give other results than casting each file alone?

    pandas infers one dtype for a whole column: integers parsed as int64 or as float64 differ
    above 2**53 (and in the sign of zero), and UTC-converted timestamps with fractions of a
    second are cut to the resolution of the file's other timestamps. Such columns are cast file
    by file, exactly as before; every other value is cast once however many files hold it.
    """
    if column.type in ("int", "float"):
        digits = values.str.strip().str.fullmatch(r"[+-]?\d{16,}|-0+")
        return bool(digits.fillna(False).any())
    if column.type == "timestamp":
        # Tested with Arrow on ASCII values; any other value counts as sensitive (rare, and safe).
        arr = pa.array(values.to_numpy(dtype=object), type=pa.string())
        if pc.all(pc.string_is_ascii(arr)).as_py() is False:
            return True
        stripped = pc.utf8_trim(arr, characters=_ASCII_WHITESPACE)
        return bool(pc.any(pc.match_substring_regex(stripped, r"\.\d+(?:Z|[+-]\d{2}:?\d{2})$")).as_py())
    return False


# C0 control characters other than tab, line feed and carriage return (which a quoted CSV value may
# hold): a NUL or an escape inside an identifier is damage in the extract, not data.
_CONTROL_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"


_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _control_characters(values: pd.Series) -> np.ndarray:
    """Which values (strings or missing) hold a control character.

    Nearly every column holds none: all its values are joined and their UTF-8 bytes (where a
    control character is its own byte, and no other character has one below 0x80) are tested at
    once, about a quarter of the cost of Arrow's regex per value, which runs only when the test
    finds one (1M distinct ids: 0.2 s instead of 0.7 s on this machine).
    """
    if not len(values):
        return np.zeros(0, dtype=bool)
    cells = values.to_numpy(dtype=object)
    present = pd.notna(cells)
    try:
        joined = "".join(cells[present].tolist()).encode("utf-8", "surrogatepass")
    except TypeError:  # a value that is not a string: test each
        joined = None
    if joined is not None and len(joined.translate(None, _CONTROL_BYTES)) == len(joined):
        return np.zeros(len(cells), dtype=bool)
    arr = pa.array([str(v) if p else None for v, p in zip(cells, present, strict=True)], type=pa.string())
    found = pc.match_substring_regex(arr, _CONTROL_PATTERN).to_numpy(zero_copy_only=False)
    return np.asarray(found == True, dtype=bool) & present  # noqa: E712 - nulls are not found


def _first_control(value: object) -> str:
    code = next(ord(ch) for ch in str(value) if ord(ch) < 0x20 and ch not in "\t\n\r")
    return f"U+{code:04X}"


def _describe(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


class _Coded:
    """A column as codes into its distinct values (-1 where missing): every rule and cast runs
    once per distinct value and is spread back to the rows by the codes."""

    def __init__(self, values: pd.Series):
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        self.codes = codes.astype(np.intp, copy=False)
        self.uniques = pd.Series(uniques, dtype=object)

    def blank_to_missing(self) -> None:
        """Whitespace-only values count as missing."""
        if len(self.uniques):
            blank = (self.uniques.astype("string").str.strip() == "").to_numpy(dtype=bool, na_value=False)
            if blank.any():
                self.codes = np.where(self.rows(blank), -1, self.codes)

    def ungroup(self) -> None:
        """One entry per row, missing ones included (as None), so that a cast can run file by file
        on exactly the values each file holds."""
        values = np.full(len(self.codes), None, dtype=object)
        present = self.codes >= 0
        values[present] = self.uniques.to_numpy()[self.codes[present]]
        self.uniques = pd.Series(values, dtype=object)
        self.codes = np.arange(len(self.codes), dtype=np.intp)

    def rows(self, mask: np.ndarray | pd.Series) -> np.ndarray:
        """A per-distinct-value mask spread to rows (missing rows: False)."""
        return np.append(np.asarray(mask, dtype=bool), False)[self.codes]

    def expand(self, typed: pd.Series) -> pd.Series:
        """Per-distinct-value typed values spread to rows (missing rows: NA of the type)."""
        if typed.dtype == object:
            out = np.full(len(self.codes), None, dtype=object)
            present = self.codes >= 0
            out[present] = typed.to_numpy()[self.codes[present]]
            return pd.Series(out, dtype=object)
        return pd.Series(typed.array.take(self.codes, allow_fill=True))


def _cast_coded(column: Column, coded: _Coded, spans: list[FileSpan]) -> tuple[pd.Series, np.ndarray]:
    """Typed values per distinct value (or per row, file by file, where batching would differ)."""
    if column.type == "str":
        return coded.uniques, np.zeros(len(coded.uniques), dtype=bool)
    if _batch_sensitive(column, coded.uniques):
        coded.ungroup()
        row_file = np.repeat(np.arange(len(spans)), [s.stop - s.start for s in spans])
        parts = [_cast(column, coded.uniques[row_file == f]) for f in range(len(spans))]
        typed = pd.concat([t for t, _ in parts]).sort_index()
        bad = pd.concat([b for _, b in parts]).sort_index()
        return typed, bad.to_numpy(dtype=bool)
    if column.type == "timestamp":
        typed, bad = _cast_timestamps(coded.uniques)
    else:
        typed, bad = _cast(column, coded.uniques)
    return typed, np.asarray(bad, dtype=bool)


def validate(
    entity: Entity,
    records: pd.DataFrame,
    *,
    service_id: str,
    pseudonymise: Pseudonymiser,
    loaded_at: dt.datetime,
    period: str | None = None,
    known_codes: Mapping[tuple[str, str], set[str]] | None = None,
    files: list[FileSpan] | None = None,
) -> Validated:
    """Type ``records`` (strings) by the contract and collect every reason a row is refused.

    ``period`` is a monthly file's ``YYYY-MM``: dated records must fall inside it.
    ``known_codes`` maps (ref_entity, ref_column) to the service's codes; a missing entry
    means the service has no such reference and the rule is skipped.

    ``files`` lets one call check several files at once: ``records`` holds their rows one file
    after another, and each span gives its file's rows and period (which then replaces
    ``period``), and its service and that service's codes where they are not the call's. Every
    rule gives the same answer as checking each file alone; duplicate keys are looked for within
    each file.
    """
    n = len(records)
    records = records.reset_index(drop=True)
    if files is None:
        files = [FileSpan(0, n, period, tuple(records.columns))]
    row_file = np.repeat(np.arange(len(files)), [f.stop - f.start for f in files])
    assert len(row_file) == n, "file spans must cover the records"
    file_service = [service_id if f.service_id is None else f.service_id for f in files]
    file_codes = [known_codes if f.service_id is None else f.known_codes for f in files]
    # Reasons per refused row, in the order the rules run (most rows have none).
    reasons: dict[int, list[str]] = {}

    def flag(mask: pd.Series | np.ndarray, message: str | Callable[[int], str]) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)).tolist():
            reasons.setdefault(i, []).append(message if isinstance(message, str) else message(i))

    def per_value(coded: _Coded, describe: Callable[[object], str]) -> Callable[[int], str]:
        cache: dict[int, str] = {}

        def message(i: int) -> str:
            code = int(coded.codes[i])
            if code not in cache:
                cache[code] = describe(coded.uniques.iat[code])
            return cache[code]

        return message

    typed: dict[str, pd.Series] = {}
    typed_coded: dict[str, tuple[_Coded, pd.Series]] = {}
    for c in entity.columns:
        coded = _Coded(records[c.name])
        control = _control_characters(coded.uniques)
        if control.any():
            flag(
                coded.rows(control),
                per_value(
                    coded, lambda v, c=c: f"column {c.name}: control character {_first_control(v)} in {_describe(v)}"
                ),
            )
        coded.blank_to_missing()
        if c.required or c.name in entity.key:
            flag(coded.codes < 0, f"column {c.name}: required value missing")
        values, bad = _cast_coded(c, coded, files)
        raw = coded.uniques  # the value as received (after blank normalisation)
        if bad.any():
            invalid = per_value(coded, lambda v, c=c: f"column {c.name}: {_describe(v)} is not a valid {c.type}")
            flag(coded.rows(bad), invalid)
        if c.allowed is not None:
            allowed = {a.lower() for a in c.allowed}
            not_allowed = (
                raw.notna() & ~raw.astype("string").str.strip().str.lower().isin(allowed).fillna(False)
            ).to_numpy(dtype=bool)
            if not_allowed.any():
                flag(
                    coded.rows(not_allowed),
                    per_value(coded, lambda v, c=c: f"column {c.name}: {_describe(v)} is not an allowed code"),
                )
            values = values.where(~not_allowed, None)
        if c.minimum is not None or c.maximum is not None:
            numeric = pd.to_numeric(values, errors="coerce")
            lo = -np.inf if c.minimum is None else c.minimum
            hi = np.inf if c.maximum is None else c.maximum
            out = (numeric.notna() & ((numeric < lo) | (numeric > hi))).to_numpy(dtype=bool)
            if out.any():
                flag(
                    coded.rows(out),
                    per_value(
                        coded, lambda v, c=c, lo=lo, hi=hi: f"column {c.name}: {_describe(v)} outside {lo:g}..{hi:g}"
                    ),
                )
        typed_coded[c.name] = (coded, values)
        typed[c.name] = coded.expand(values)

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
                        lambda i,
                        name=name,
                        prev=running_name: f"timestamps out of sequence: {name} before {prev.iat[i]}",
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
            flag(out, lambda i: f"elapsed {start} to {end} of {seconds.iat[i]:.0f} s outside {lo:g}..{hi:g} s")

    # Dates: not after the load time, and inside a monthly file's period.
    for name in entity.not_future:
        when = pd.to_datetime(typed[name])
        future = when.notna() & (when > pd.Timestamp(loaded_at))
        if future.any():
            flag(future, lambda i, name=name, when=when: f"column {name}: {when.iat[i]:%Y-%m-%d} is in the future")
    if entity.delivery == "monthly" and entity.period_column:
        monthly = [f.period if f.period else None for f in files]
        if any(monthly):
            name = entity.period_column
            when = pd.to_datetime(typed[name])
            starts = [pd.Timestamp(f"{p}-01") if p else pd.NaT for p in monthly]
            ends = [s + pd.offsets.MonthBegin(1) if p else pd.NaT for s, p in zip(starts, monthly, strict=True)]
            period_start = pd.Series(pd.DatetimeIndex(starts).take(row_file)).astype(when.dtype)
            period_end = pd.Series(pd.DatetimeIndex(ends).take(row_file)).astype(when.dtype)
            checked = period_start.notna().to_numpy()
            outside = when.notna() & checked & ((when < period_start) | (when >= period_end))
            if outside.any():
                flag(
                    outside,
                    lambda i, name=name, when=when: (
                        f"column {name}: {when.iat[i]:%Y-%m-%d} outside the file's period {monthly[row_file[i]]}"
                    ),
                )

    for rule in entity.known_codes:
        coded, values = typed_coded[rule.column]
        unknown = _unknown_codes(rule, coded, values, row_file, file_codes)
        if unknown.any():
            flag(
                unknown,
                lambda i, rule=rule, coded=coded, values=values: (
                    f"column {rule.column}: code {_describe(values.iat[int(coded.codes[i])])} not in {rule.ref_entity}"
                ),
            )

    # Pseudonymise before the duplicate check so stored keys are what we compare.
    out_cols: dict[str, pd.Series] = {}
    for c in entity.loaded_columns:
        values = typed[c.name]
        if c.pseudonymise:
            values = _pseudonymised(*typed_coded[c.name], row_file, file_service, pseudonymise)
        out_cols[stored_name(c)] = values
    good_frame = pd.DataFrame(out_cols)
    good_frame[ROW_COLUMN] = records[ROW_COLUMN].to_numpy()

    # Duplicate keys within a file: the first otherwise-valid occurrence is kept.
    key_cols = [stored_name(entity.column(k)) for k in entity.key]
    refused = np.zeros(n, dtype=bool)
    refused[list(reasons)] = True
    clean_idx = np.flatnonzero(~refused)
    if len(clean_idx):
        key_frame = good_frame.iloc[clean_idx][key_cols].astype("string").fillna("")
        keys = key_frame[key_cols[0]]
        for extra in key_cols[1:]:
            keys = keys + "|" + key_frame[extra]
        by_file = pd.DataFrame({"file": row_file[clean_idx], "key": keys.to_numpy()})
        dup = by_file.duplicated(keep="first").to_numpy()
        if dup.any():
            source_rows = good_frame[ROW_COLUMN].to_numpy()[clean_idx]
            first_at = by_file.assign(row=source_rows).groupby(["file", "key"], sort=False)["row"].transform("first")
            for pos in np.flatnonzero(dup).tolist():
                reasons.setdefault(int(clean_idx[pos]), []).append(
                    f"duplicate key {by_file['key'].iat[pos]} (first at row {int(first_at.iat[pos])})"
                )

    bad_rows = np.array(sorted(reasons), dtype=np.intp)
    bad = np.zeros(n, dtype=bool)
    bad[bad_rows] = True
    raw_texts = _raw_texts(entity, records, bad_rows, row_file, files, file_service, pseudonymise)
    return Validated(
        good=good_frame.loc[~bad].reset_index(drop=True),
        rejected_rows=records[ROW_COLUMN].to_numpy()[bad_rows],
        reasons=["; ".join(reasons[i]) for i in bad_rows.tolist()],
        raw_texts=raw_texts,
        good_files=row_file[~bad],
        rejected_files=row_file[bad_rows],
    )


def _unknown_codes(
    rule: KnownCode,
    coded: _Coded,
    values: pd.Series,
    row_file: np.ndarray,
    file_codes: list[Mapping[tuple[str, str], set[str]] | None],
) -> np.ndarray:
    """Rows whose code is not among its own file's service's codes for ``rule`` (per distinct
    value and service); a file whose service has no such reference is not checked."""
    unknown = np.zeros(len(row_file), dtype=bool)
    by_codes: dict[int, tuple[set[str], list[int]]] = {}
    for f, mapping in enumerate(file_codes):
        codes = (mapping or {}).get((rule.ref_entity, rule.ref_column))
        if codes is not None:
            by_codes.setdefault(id(codes), (codes, []))[1].append(f)
    present = values.notna()
    for codes, in_files in by_codes.values():
        rows = coded.rows((present & ~values.isin(codes)).to_numpy(dtype=bool))
        if len(by_codes) > 1 or len(in_files) < len(file_codes):
            rows &= np.isin(row_file, in_files)
        unknown |= rows
    return unknown


def _pseudonymised(
    coded: _Coded, distinct: pd.Series, row_file: np.ndarray, file_service: list[str], pseudonymise: Pseudonymiser
) -> pd.Series:
    """Each row's value keyed-hashed with its file's service, once per distinct (service, value)."""
    services = pd.unique(np.asarray(file_service, dtype=object))
    if len(services) == 1:
        hashed = distinct.map(lambda v: None if pd.isna(v) else pseudonymise(services[0], str(v).strip()))
        return coded.expand(hashed.astype(object))
    service_code = pd.Index(services).get_indexer(np.asarray(file_service, dtype=object))[row_file]
    pairs, first = np.unique(np.stack([service_code, coded.codes]), axis=1, return_inverse=True)
    out = np.full(pairs.shape[1], None, dtype=object)
    for j, (s, code) in enumerate(pairs.T.tolist()):
        if code >= 0:
            value = distinct.iat[code]
            out[j] = None if pd.isna(value) else pseudonymise(services[s], str(value).strip())
    return pd.Series(out[first.reshape(-1)], dtype=object)


def _raw_texts(
    entity: Entity,
    records: pd.DataFrame,
    rows: np.ndarray,
    row_file: np.ndarray,
    files: list[FileSpan],
    file_service: list[str],
    pseudonymise: Pseudonymiser,
) -> list[str]:
    """The quarantined row as received, minus personal data (names redacted, ids pseudonymised);
    its fields in the order of its own file's columns."""
    personal = {c.name for c in entity.columns if c.personal}
    hashed = {c.name for c in entity.columns if c.pseudonymise}
    texts = []
    picked = records.iloc[rows]
    for i, record in zip(rows.tolist(), picked.to_dict(orient="records"), strict=True):
        order = files[row_file[i]].columns or tuple(records.columns)
        safe = {}
        for k in order:
            if k == ROW_COLUMN:
                continue
            v = record[k]
            if k in personal and not pd.isna(v):
                v = REDACTED
            elif k in hashed and not pd.isna(v):
                v = pseudonymise(file_service[row_file[i]], str(v).strip())
            safe[k] = v
        texts.append(json.dumps(safe, ensure_ascii=False, default=str))
    return texts
