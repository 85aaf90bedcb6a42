"""Type and check rows against their contract. Every rule is SQL run by DuckDB over a table of the
rows as received (strings); Python only words the reasons of the rows refused.

The engine puts a batch of files' rows in ``_rec`` (``put_rows`` for rows a Python reader parsed;
DuckDB's own readers fill it directly: ``native.py``) and the files in ``_files``; ``check`` leaves
every row in ``_checked`` with its typed values and ``_ok``, and returns the refused rows with their
reasons. ``validate`` does the same for one frame, for the dry run and the tests.

What the types accept (DuckDB's casts are looser, so each is guarded by a pattern first):
``int`` ASCII digits with an optional sign and ``.0``; ``float`` a decimal or exponent number, or
``inf``; ``date`` ``YYYY-MM-DD``; ``timestamp`` ``YYYY-MM-DD HH:MM[:SS[.f]]`` (or ``T``), with an
optional offset (``Z``, ``+01:00``) converted to UTC; ``bool`` the contract's true and false words.
Values are stripped of ASCII spaces before typing; a blank value is missing. Year 0000 and
digits of other scripts are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.ingestion.contracts import FALSE_VALUES, TRUE_VALUES, Column, Entity
from orchestration.ingestion.readers import ROW_COLUMN

REDACTED = "[redacted]"
SQL_TYPES = {"str": "varchar", "int": "bigint", "float": "double", "date": "date", "timestamp": "timestamp", "bool": "boolean"}


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
class FileInfo:
    """One file (delivery) of a batch: ``_d`` in ``_rec`` is its position in the batch's list."""

    service_id: str
    period: str | None = None  # a monthly file's YYYY-MM: dated rows must fall inside it
    columns: tuple[str, ...] = ()  # the file's own column order (for a refused row's text)
    known_codes: Mapping[tuple[str, str], set[str]] | None = None  # the service's reference codes


@dataclass
class Refused:
    delivery: int
    row: int
    reason: str
    raw_text: str


@dataclass
class Validated:
    good: pd.DataFrame  # typed, stored column names, plus _source_row
    rejected_rows: np.ndarray  # _source_row values
    reasons: list[str]
    raw_texts: list[str]
    good_files: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    rejected_files: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


@dataclass(frozen=True)
class FileSpan:
    """One file's rows inside a multi-file frame given to ``validate`` (``start:stop``)."""

    start: int
    stop: int
    period: str | None = None
    columns: tuple[str, ...] = ()
    service_id: str | None = None
    known_codes: Mapping[tuple[str, str], set[str]] | None = None


# ----------------------------------------------------------------------------- the input table


def create_input(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """An empty ``_rec`` for ``entity``: ``_d`` (the file), ``_src`` (its line) and every contract
    column as text."""
    cols = ", ".join(f'"{c.name}" varchar' for c in entity.columns)
    con.execute(f"create or replace temp table _rec (_d integer, _src bigint, {cols})")


def put_rows(con: duckdb.DuckDBPyConnection, entity: Entity, records: pd.DataFrame, delivery: int) -> None:
    """Append a parsed file's rows (strings or None, plus ``_source_row``) to ``_rec``."""
    if not len(records):
        return
    arrays = {
        "_d": pa.array(np.full(len(records), delivery, dtype=np.int32)),
        "_src": pa.array(records[ROW_COLUMN].to_numpy(dtype=np.int64)),
    }
    for c in entity.columns:
        values = records[c.name].to_numpy(dtype=object)
        try:
            arrays[c.name] = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # a reader gave a non-string value: its text
            arrays[c.name] = pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.string())
    _from_arrow(con, "insert into _rec by name select * from {}", pa.table(arrays))


def _from_arrow(con: duckdb.DuckDBPyConnection, sql: str, table: pa.Table) -> None:
    """Run ``sql`` with ``{}`` standing for ``table``."""
    con.register("_arrow_input", table)
    try:
        con.execute(sql.format("_arrow_input"))
    finally:
        con.unregister("_arrow_input")


# ----------------------------------------------------------------------------- the rules as SQL

_WS = r"[ \t\n\r\x0b\x0c\x1c-\x1f]"
# C0 control characters other than tab, line feed and carriage return (which a quoted CSV value may
# hold): a NUL or an escape inside an identifier is damage in the extract, not data.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_YEAR = r"([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DATE = _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_ZONE = r"(Z|[+-][0-9]{2}:?[0-9]{2})"
_TIMESTAMP = _DATE + r"[ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?" + _ZONE + "?"
_INT = r"[+-]?[0-9]+(\.0*)?"
_FLOAT = r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[iI][nN][fF]([iI][nN][iI][tT][yY])?)"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _typed(c: Column, s: str) -> str:
    """The value of stripped text ``s`` as the column's type (null where it is not one)."""
    if c.type == "int":
        return f"case when regexp_full_match({s}, '{_INT}') then try_cast(regexp_replace({s}, '\\.0*$', '') as bigint) end"
    if c.type == "float":
        return f"case when regexp_full_match({s}, '{_FLOAT}') then try_cast({s} as double) end"
    if c.type == "date":
        return f"case when regexp_full_match({s}, '{_DATE}') then try_cast({s} as date) end"
    if c.type == "timestamp":
        local = f"try_cast(replace(regexp_replace({s}, '{_ZONE}$', ''), 'T', ' ') as timestamp)"
        offset = (
            f"case when regexp_matches({s}, '[+-][0-9]{{2}}:?[0-9]{{2}}$') then "
            f"(case when regexp_extract({s}, '([+-])[0-9]{{2}}:?[0-9]{{2}}$', 1) = '-' then -1 else 1 end) * "
            f"(cast(regexp_extract({s}, '([0-9]{{2}}):?([0-9]{{2}})$', 1) as integer) * 60 + "
            f"cast(regexp_extract({s}, '([0-9]{{2}}):?([0-9]{{2}})$', 2) as integer)) else 0 end"
        )
        return (
            f"case when regexp_full_match({s}, '{_TIMESTAMP}') then "
            f"case when regexp_matches({s}, '{_ZONE}$') then {local} - to_minutes({offset}) else {local} end end"
        )
    if c.type == "bool":
        trues = ", ".join(_q(v) for v in sorted(TRUE_VALUES))
        falses = ", ".join(_q(v) for v in sorted(FALSE_VALUES))
        return f"case when lower({s}) in ({trues}) then true when lower({s}) in ({falses}) then false end"
    raise ValueError(c.type)


def _parse_sql(entity: Entity) -> str:
    """Per row: each value stripped, missing or not, control characters, typed, allowed, in range."""
    first, second = ["_d", "_src"], ["_d", "_src"]
    for k, c in enumerate(entity.columns):
        raw, s = f'"{c.name}"', f"s{k}"
        first += [
            f"{raw} as c{k}",
            f"case when regexp_matches({raw}, '^{_WS}|{_WS}$') then regexp_replace({raw}, '^{_WS}+|{_WS}+$', '', 'g') "
            f"else {raw} end as {s}",
            f"coalesce(regexp_matches({raw}, '{_CONTROL}'), false) as ctl{k}",
        ]
        second += [f"c{k}", f"s{k}", f"ctl{k}", f"(c{k} is null or s{k} = '') as m{k}"]
        if c.type == "str":
            second += [f"case when not (c{k} is null or s{k} = '') then c{k} end as t{k}", f"false as bad{k}"]
        else:
            second += [f"case when s{k} <> '' then {_typed(c, s)} end as t{k}"]
            second += [f"coalesce(s{k} <> '' and t{k} is null, false) as bad{k}"]
        if c.allowed is not None:
            allowed = ", ".join(_q(a.lower()) for a in sorted(set(c.allowed)))
            second.append(f"coalesce(s{k} <> '' and lower(s{k}) not in ({allowed}), false) as na{k}")
        else:
            second.append(f"false as na{k}")
        if c.minimum is not None or c.maximum is not None:
            bounds = []
            if c.minimum is not None:
                bounds.append(f"t{k} < {c.minimum!r}")
            if c.maximum is not None:
                bounds.append(f"t{k} > {c.maximum!r}")
            second.append(f"coalesce({' or '.join(bounds)}, false) as rng{k}")
        else:
            second.append(f"false as rng{k}")
    return f"select {', '.join(second)} from (select {', '.join(first)} from _rec)"


def _rules_sql(entity: Entity, loaded_at: dt.datetime, hashed: list[int]) -> str:
    """The row rules over ``_p`` (``_parse_sql``) and the files, then duplicate keys within a file
    among the rows no rule refused; the typed values under their stored names."""
    index = {c.name: k for k, c in enumerate(entity.columns)}
    t = {c.name: f"t{k}" for k, c in enumerate(entity.columns)}
    for k, c in enumerate(entity.columns):
        if c.allowed is not None:
            t[c.name] = f"(case when not na{k} then t{k} end)"
    joins, cols, flags = [], [], []
    for k, c in enumerate(entity.columns):
        flags += [f"ctl{k}", f"bad{k}", f"na{k}", f"rng{k}"]
        if c.required or c.name in entity.key:
            cols.append(f"m{k} as req{k}")
            flags.append(f"req{k}")
    for k in hashed:
        joins.append(f"left join _ps{k} on _ps{k}.service_id = f.service_id and _ps{k}.v = s{k} and not m{k}")
    # Timestamps in sequence: each against the latest of the earlier stages that are filled.
    for i, name in enumerate(entity.sequence[1:], start=1):
        earlier = [t[n] for n in entity.sequence[:i]]
        latest = f"greatest({', '.join(earlier)})" if len(earlier) > 1 else earlier[0]
        named = " ".join(f"when {t[n]} = {latest} then {_q(n)}" for n in reversed(entity.sequence[:i]))
        cols.append(f"case when {t[name]} < {latest} then case {named} end end as seq{i}")
        flags.append(f"seq{i} is not null")
    if entity.elapsed_bounds:
        start, end, lo, hi = entity.elapsed_bounds
        cols.append(f"date_diff('microsecond', {t[start]}, {t[end]}) / 1e6 as elapsed")
        flags.append(f"coalesce(elapsed < {lo!r} or elapsed > {hi!r}, false)")
    for i, name in enumerate(entity.not_future):
        cols.append(f"coalesce(cast({t[name]} as timestamp) > timestamp '{loaded_at:%Y-%m-%d %H:%M:%S.%f}', false) as fut{i}")
        flags.append(f"fut{i}")
    if entity.delivery == "monthly" and entity.period_column:
        when = f"cast({t[entity.period_column]} as timestamp)"
        cols.append(f"coalesce(f.p_start is not null and ({when} < f.p_start or {when} >= f.p_end), false) as per")
        flags.append("per")
    for j, rule in enumerate(entity.known_codes):
        k = index[rule.column]
        joins.append(f"left join _code_rules r{j} on r{j}.service_id = f.service_id and r{j}.rule = {j}")
        joins.append(f"left join _codes k{j} on k{j}.service_id = f.service_id and k{j}.rule = {j} and k{j}.code = {t[rule.column]}")
        cols.append(f"({t[rule.column]} is not null and r{j}.rule is not null and k{j}.code is null) as kc{j}")
        flags.append(f"kc{j}")
    stored = []
    for c in entity.loaded_columns:
        k = index[c.name]
        value = f"_ps{k}.h" if k in hashed else t[c.name]
        stored.append(f'cast({value} as {SQL_TYPES[c.type]}) as "{stored_name(c)}"')
    rows = (
        f"select _p.*, {', '.join([*cols, *stored]) if cols or stored else ''}"
        f" from _p join _files f using (_d) {' '.join(joins)}"
    )
    keys = ", ".join(f'"{stored_name(entity.column(k))}"' for k in entity.key)
    bad = " or ".join(f"({f})" for f in flags) or "false"
    return f"""
        select *, case when not _bad and row_number() over w > 1 then first_value(_src) over w end as dup_first
        from (select *, {bad} as _bad from ({rows}))
        window w as (partition by _d, _bad, {keys} order by _src)
    """


def check(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: list[FileInfo],
    *,
    pseudonymise: Pseudonymiser,
    loaded_at: dt.datetime,
) -> list[Refused]:
    """Check the rows in ``_rec`` (of ``files``, by ``_d``): leaves ``_checked`` with every row's
    typed values under their stored names, ``_src``, ``_d`` and ``_ok``; returns the refused rows."""
    _put_files(con, entity, files)
    _put_codes(con, entity, files)
    con.execute(f"create or replace temp table _p as {_parse_sql(entity)}")
    hashed = [k for k, c in enumerate(entity.columns) if c.pseudonymise]
    for k in hashed:
        pairs = con.execute(
            f"select distinct f.service_id, s{k} from _p join _files f using (_d) where not m{k}"
        ).fetchall()
        table = pa.table(
            {
                "service_id": [p[0] for p in pairs],
                "v": [p[1] for p in pairs],
                "h": [pseudonymise(svc, v) for svc, v in pairs],
            },
            schema=pa.schema([("service_id", pa.string()), ("v", pa.string()), ("h", pa.string())]),
        )
        _from_arrow(con, f"create or replace temp table _ps{k} as select * from {{}}", table)
    con.execute(f"create or replace temp table _checked as select *, not _bad and dup_first is null as _ok from ({_rules_sql(entity, loaded_at, hashed)})")
    con.execute("drop table _p")
    return _refused(con, entity, files, pseudonymise)


def _put_files(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[FileInfo]) -> None:
    monthly = entity.delivery == "monthly" and entity.period_column
    starts = [dt.datetime.strptime(f.period, "%Y-%m") if monthly and f.period else None for f in files]
    ends = [(s.replace(year=s.year + (s.month == 12), month=s.month % 12 + 1) if s else None) for s in starts]
    table = pa.table(
        {
            "_d": pa.array(range(len(files)), type=pa.int32()),
            "service_id": pa.array([f.service_id for f in files], type=pa.string()),
            "p_start": pa.array(starts, type=pa.timestamp("us")),
            "p_end": pa.array(ends, type=pa.timestamp("us")),
        }
    )
    _from_arrow(con, "create or replace temp table _files as select * from {}", table)


def _put_codes(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[FileInfo]) -> None:
    rules, codes = set(), set()
    for f in files:
        for j, rule in enumerate(entity.known_codes):
            found = (f.known_codes or {}).get((rule.ref_entity, rule.ref_column))
            if found is not None:
                rules.add((f.service_id, j))
                codes.update((f.service_id, j, str(code)) for code in found if code is not None)
    schema = pa.schema([("service_id", pa.string()), ("rule", pa.int32())])
    rule_table = pa.Table.from_pylist([{"service_id": s, "rule": j} for s, j in sorted(rules)], schema=schema)
    code_table = pa.Table.from_pylist(
        [{"service_id": s, "rule": j, "code": c} for s, j, c in sorted(codes)],
        schema=schema.append(pa.field("code", pa.string())),
    )
    _from_arrow(con, "create or replace temp table _code_rules as select * from {}", rule_table)
    _from_arrow(con, "create or replace temp table _codes as select * from {}", code_table)


# ----------------------------------------------------------------------------- reasons in words


def _describe(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _first_control(value: object) -> str:
    code = next(ord(ch) for ch in str(value) if ord(ch) < 0x20 and ch not in "\t\n\r")
    return f"U+{code:04X}"


def _g(bound: float | None, sign: int) -> str:
    return f"{(sign * np.inf) if bound is None else bound:g}"


def _refused(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[FileInfo], pseudonymise: Pseudonymiser
) -> list[Refused]:
    """Each refused row's reasons, in the order the rules run, and its text minus personal data."""
    rows = con.execute(
        "select c.*, r.* exclude (_d, _src) from _checked c join _rec r using (_d, _src) where not c._ok order by c._d, c._src"
    ).fetchall()
    if not rows:
        return []
    names = [d[0] for d in con.description]
    at = {n: i for i, n in enumerate(names)}
    personal = {c.name for c in entity.columns if c.personal}
    hashed = {c.name for c in entity.columns if c.pseudonymise}
    key_names = [stored_name(entity.column(k)) for k in entity.key]
    out = []
    for row in rows:
        v = row.__getitem__
        reasons = []
        for k, c in enumerate(entity.columns):
            raw = v(at[f"c{k}"])
            if v(at[f"ctl{k}"]):
                reasons.append(f"column {c.name}: control character {_first_control(raw)} in {_describe(raw)}")
            if f"req{k}" in at and v(at[f"req{k}"]):
                reasons.append(f"column {c.name}: required value missing")
            if v(at[f"bad{k}"]):
                reasons.append(f"column {c.name}: {_describe(raw)} is not a valid {c.type}")
            if v(at[f"na{k}"]):
                reasons.append(f"column {c.name}: {_describe(raw)} is not an allowed code")
            if v(at[f"rng{k}"]):
                reasons.append(
                    f"column {c.name}: {_describe(raw)} outside {_g(c.minimum, -1)}..{_g(c.maximum, 1)}"
                )
        for i, name in enumerate(entity.sequence[1:], start=1):
            if v(at[f"seq{i}"]) is not None:
                reasons.append(f"timestamps out of sequence: {name} before {v(at[f'seq{i}'])}")
        if entity.elapsed_bounds:
            start, end, lo, hi = entity.elapsed_bounds
            seconds = v(at["elapsed"])
            if seconds is not None and (seconds < lo or seconds > hi):
                reasons.append(f"elapsed {start} to {end} of {seconds:.0f} s outside {lo:g}..{hi:g} s")
        for i, name in enumerate(entity.not_future):
            if v(at[f"fut{i}"]):
                reasons.append(f"column {name}: {v(at[f't{entity.columns.index(entity.column(name))}']):%Y-%m-%d} is in the future")
        if "per" in at and v(at["per"]):
            k = entity.columns.index(entity.column(entity.period_column))
            reasons.append(
                f"column {entity.period_column}: {v(at[f't{k}']):%Y-%m-%d} outside the file's period "
                f"{files[v(at['_d'])].period}"
            )
        for j, rule in enumerate(entity.known_codes):
            if v(at[f"kc{j}"]):
                k = entity.columns.index(entity.column(rule.column))
                reasons.append(f"column {rule.column}: code {_describe(v(at[f't{k}']))} not in {rule.ref_entity}")
        if v(at["dup_first"]) is not None:
            key = "|".join(str(v(at[n])) for n in key_names)
            reasons.append(f"duplicate key {key} (first at row {v(at['dup_first'])})")
        f = files[v(at["_d"])]
        safe = {}
        for name in f.columns or [c.name for c in entity.columns]:
            if name == ROW_COLUMN or name not in at:
                continue
            value = v(at[name])
            if name in personal and value is not None:
                value = REDACTED
            elif name in hashed and value is not None:
                value = pseudonymise(f.service_id, str(value).strip())
            safe[name] = value
        out.append(Refused(v(at["_d"]), v(at["_src"]), "; ".join(reasons), json.dumps(safe, ensure_ascii=False, default=str)))
    return out


# ----------------------------------------------------------------------------- one frame


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
    """``check`` on a frame of strings (one file, or several as ``files`` spans), in a DuckDB of
    its own: the typed good rows and, for every other row, its reasons."""
    records = records.reset_index(drop=True)
    if files is None:
        files = [FileSpan(0, len(records), period, tuple(records.columns))]
    infos = [
        FileInfo(
            service_id if f.service_id is None else f.service_id,
            f.period,
            f.columns or tuple(records.columns),
            known_codes if f.service_id is None else f.known_codes,
        )
        for f in files
    ]
    with duckdb.connect() as con:
        create_input(con, entity)
        for d, f in enumerate(files):
            put_rows(con, entity, records.iloc[f.start : f.stop], d)
        refused = check(con, entity, infos, pseudonymise=pseudonymise, loaded_at=loaded_at)
        stored = ", ".join(f'"{stored_name(c)}"' for c in entity.loaded_columns)
        good = con.execute(f"select _d, {stored}, _src as {ROW_COLUMN} from _checked where _ok order by _d, _src").df()
    good_files = good.pop("_d").to_numpy(dtype=np.intp)
    return Validated(
        good=good,
        rejected_rows=np.array([r.row for r in refused], dtype=np.int64),
        reasons=[r.reason for r in refused],
        raw_texts=[r.raw_text for r in refused],
        good_files=good_files,
        rejected_files=np.array([r.delivery for r in refused], dtype=np.intp),
    )
