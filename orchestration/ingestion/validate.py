"""Type and check rows against their contract. Every rule is SQL run by DuckDB over a table of the
rows as received (strings); Python only words the reasons of the rows refused.

The engine puts a batch of files' rows in ``_rec`` (``put_rows`` for rows a Python reader parsed;
DuckDB's own readers fill it directly: ``native.py``) and the files in ``_files``; ``check`` leaves
every row in ``_checked`` with its typed values and ``_ok``, and returns the refused rows with their
reasons. ``validate`` does the same for one frame, for the dry run and the tests. What each type
accepts is ``TYPE_RULES`` (shown on the contracts page).
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

from orchestration.ingestion import native
from orchestration.ingestion.contracts import FALSE_VALUES, TRUE_VALUES, Column, Entity
from orchestration.ingestion.readers import ROW_COLUMN

REDACTED = "[redacted]"
# What each contract type accepts; DuckDB's own casts are looser, so each is guarded by a pattern.
TYPE_RULES = {
    "str": "any text; a value of only spaces is missing",
    "int": "ASCII digits with an optional sign and an optional `.0` (`3`, `-2`, `3.0`), up to 64 bits",
    "float": "a decimal or exponent number (`1.5`, `.5`, `1e3`) or `inf`",
    "date": "`YYYY-MM-DD` (year 0001 or later)",
    "timestamp": "`YYYY-MM-DD HH:MM[:SS[.fraction]]`, `T` allowed for the space; an offset (`Z`, `+01:00`) is "
    "converted to UTC, a timestamp without one is kept as given (local time)",
    "bool": "`"
    + "`, `".join(sorted(TRUE_VALUES))
    + "` for true and `"
    + "`, `".join(sorted(FALSE_VALUES))
    + "` for false, in any case",
}
SQL_TYPES = {
    "str": "varchar",
    "int": "bigint",
    "float": "double",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
}


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
    clean: bool = False  # known to hold no control character (its bytes were scanned)


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
    column as text. ``_rec`` is a view: over ``_rec_py`` (rows the Python readers parsed) and the
    tables of DuckDB's own scans, which ``native.read`` adds to it, so no row is copied twice."""
    cols = ", ".join(f'"{c.name}" varchar' for c in entity.columns)
    con.execute("drop view if exists _rec")
    native.drop(con)
    con.execute(f"create or replace temp table _rec_py (_d integer, _src bigint, {cols})")
    con.execute("create or replace temp view _rec as select * from _rec_py")


def drop_input(con: duckdb.DuckDBPyConnection) -> None:
    """Free a batch's tables once its rows are written."""
    con.execute("drop view if exists _rec")
    native.drop(con)
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where temporary and "
        "(table_name in ('_rec_py', '_checked', '_files', '_codes', '_code_rules') or starts_with(table_name, '_ps'))"
    ).fetchall():
        con.execute(f"drop table {table}")


def put_rows(con: duckdb.DuckDBPyConnection, entity: Entity, records: pd.DataFrame, delivery: int) -> None:
    """Append a parsed file's rows (strings or None, plus ``_source_row``) to ``_rec`` (``_rec_py``)."""
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
    _from_arrow(con, "insert into _rec_py by name select * from {}", pa.table(arrays))


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
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DATE = _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
_FLOAT = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
# Each type's text, spaces around it allowed; group 1 is what DuckDB casts (an integer's ".0" and
# a timestamp's offset, group 2, left out).
_CORE = {
    "int": r"([+-]?[0-9]+)(?:\.0*)?",
    "float": f"({_FLOAT})",
    "date": f"({_DATE})",
    "timestamp": f"({_DATE}[ T]{_TIME})(Z|[+-][0-9]{{2}}:?[0-9]{{2}})?",
}


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _core(c: Column, raw: str) -> str | None:
    """The part of a value the cast reads ('' where the value is not of the type): one regex."""
    if c.type not in _CORE:
        return None
    pattern = f"^{_WS}*{_CORE[c.type]}{_WS}*$"
    if c.type == "timestamp":
        return f"regexp_extract({raw}, '{pattern}', ['l', 'z'])"
    return f"regexp_extract({raw}, '{pattern}', 1)"


def _typed(c: Column, x: str, s: str) -> str:
    """The value as the column's type (null where it is not one), from its core ``x`` or, for a
    bool, its stripped text ``s``."""
    if c.type in ("int", "float", "date"):
        return f"case when {x} <> '' then try_cast({x} as {SQL_TYPES[c.type]}) end"
    if c.type == "timestamp":
        z = f"{x}.z"
        sign = f"(case left({z}, 1) when '-' then -1 else 1 end)"
        minutes = f"{sign} * (cast(substr({z}, 2, 2) as integer) * 60 + cast(right({z}, 2) as integer))"
        local = f"try_cast(replace({x}.l, 'T', ' ') as timestamp)"
        return (
            f"case when {x}.l = '' then null when {z} in ('', 'Z') then {local} "
            f"else {local} - to_minutes({minutes}) end"
        )
    if c.type == "bool":
        trues = ", ".join(_q(v) for v in sorted(TRUE_VALUES))
        falses = ", ".join(_q(v) for v in sorted(FALSE_VALUES))
        return f"case when lower({s}) in ({trues}) then true when lower({s}) in ({falses}) then false end"
    raise ValueError(c.type)


def _strip(raw: str) -> str:
    return (
        f"case when ascii({raw}) <= 32 or ascii(right({raw}, 1)) <= 32 then "
        f"regexp_replace({raw}, '^{_WS}+|{_WS}+$', '', 'g') else {raw} end"
    )


class _Rules:
    """The contract's rules over a relation of rows as received (``_d``, ``_src`` and the contract's
    columns as text), in three layers: values stripped, typed, then judged row by row.

    ``lean``: each row's typed values under their stored names and ``_bad`` (any rule broken);
    ``detail``: every rule's own flag (and what its reason names), for the refused rows only.
    """

    def __init__(self, entity: Entity, loaded_at: dt.datetime, hashed: list[int]):
        self.entity, self.loaded_at, self.hashed = entity, loaded_at, hashed
        self.index = {c.name: k for k, c in enumerate(entity.columns)}

    def _needs_strip(self, k: int, c: Column) -> bool:
        return c.type == "bool" or c.allowed is not None or k in self.hashed

    def _layers(self, source: str, detail: bool) -> str:
        carried = ["_d", "r._src", "f.service_id as _svc", "f.p_start as _p_start", "f.p_end as _p_end"]
        first, second = carried, ["_d", "_src", "_svc", "_p_start", "_p_end"]
        names = ", ".join(f'r."{c.name}"' for c in self.entity.columns)
        if not detail:  # one test per row for a control character anywhere (one per value in detail)
            first.append(
                f"case when f.clean then false else coalesce(regexp_matches(concat({names}), '{_CONTROL}'), false) "
                "end as ctl"
            )
            second.append("ctl")
        for k, c in enumerate(self.entity.columns):
            raw = f'r."{c.name}"'
            first.append(f"{raw} as c{k}")
            core = _core(c, raw)
            if core is not None:
                first.append(f"{core} as x{k}")
                empty = f"x{k}.l = ''" if c.type == "timestamp" else f"x{k} = ''"
                blank = f"(c{k} is null or ({empty} and regexp_full_match(c{k}, '{_WS}*')))"
            elif self._needs_strip(k, c):
                first.append(f"{_strip(raw)} as s{k}")
                blank = f"(c{k} is null or s{k} = '')"
            else:
                blank = f"(c{k} is null or c{k} = '' or (ascii(c{k}) <= 32 and regexp_full_match(c{k}, '{_WS}*')))"
            if detail:
                first.append(f"coalesce(regexp_matches({raw}, '{_CONTROL}'), false) as ctl{k}")
                second += [f"c{k}", f"ctl{k}"]
            second.append(f"{blank} as m{k}")
            if core is None and self._needs_strip(k, c):
                second.append(f"s{k}")
            if c.type == "str":
                second.append(f"case when not {blank} then c{k} end as t{k}")
            else:
                second.append(f"case when not {blank} then {_typed(c, f'x{k}', f's{k}')} end as t{k}")
        rows = f"select {', '.join(first)} from {source} as r join _files f using (_d)"
        return f"select {', '.join(second)} from ({rows})"

    def _flags(self) -> tuple[list[str], list[tuple[str, str]]]:
        """(joins, [(name, condition)]) for every rule, in the order the rules run."""
        entity, t = self.entity, {}
        joins: list[str] = []
        flags: list[tuple[str, str]] = []
        for k, c in enumerate(entity.columns):
            t[c.name] = f"t{k}" if c.allowed is None else f"(case when not na{k} then t{k} end)"
        for k, c in enumerate(entity.columns):
            if c.required or c.name in entity.key:
                flags.append((f"req{k}", f"m{k}"))
            if c.type != "str":
                flags.append((f"bad{k}", f"(not m{k} and t{k} is null)"))
            if c.allowed is not None:
                allowed = ", ".join(_q(a.lower()) for a in sorted(set(c.allowed)))
                flags.append((f"na{k}", f"(not m{k} and lower(s{k}) not in ({allowed}))"))
            bounds = []
            if c.minimum is not None:
                bounds.append(f"t{k} < {c.minimum!r}")
            if c.maximum is not None:
                bounds.append(f"t{k} > {c.maximum!r}")
            if bounds:
                flags.append((f"rng{k}", f"coalesce({' or '.join(bounds)}, false)"))
        # Timestamps in sequence: each against the latest of the earlier stages that are filled.
        for i, name in enumerate(entity.sequence[1:], start=1):
            earlier = [t[n] for n in entity.sequence[:i]]
            latest = f"greatest({', '.join(earlier)})" if len(earlier) > 1 else earlier[0]
            flags.append((f"seq{i}", f"coalesce({t[name]} < {latest}, false)"))
        if entity.elapsed_bounds:
            start, end, lo, hi = entity.elapsed_bounds
            seconds = f"(date_diff('microsecond', {t[start]}, {t[end]}) / 1e6)"
            flags.append(("elapsed", f"coalesce({seconds} < {lo!r} or {seconds} > {hi!r}, false)"))
        for i, name in enumerate(entity.not_future):
            when = f"cast({t[name]} as timestamp)"
            flags.append((f"fut{i}", f"coalesce({when} > timestamp '{self.loaded_at:%Y-%m-%d %H:%M:%S.%f}', false)"))
        if entity.delivery == "monthly" and entity.period_column:
            when = f"cast({t[entity.period_column]} as timestamp)"
            flags.append(("per", f"coalesce(_p_start is not null and ({when} < _p_start or {when} >= _p_end), false)"))
        for j, rule in enumerate(entity.known_codes):
            value = t[rule.column]
            joins.append(f"left join _code_rules r{j} on r{j}.service_id = _svc and r{j}.rule = {j}")
            joins.append(f"left join _codes k{j} on k{j}.service_id = _svc and k{j}.rule = {j} and k{j}.code = {value}")
            flags.append((f"kc{j}", f"({value} is not null and r{j}.rule is not null and k{j}.code is null)"))
        for k in self.hashed:
            joins.append(f"left join _ps{k} on _ps{k}.service_id = _svc and _ps{k}.v = s{k} and not m{k}")
        self.t = t
        return joins, flags

    def lean(self, source: str) -> str:
        joins, flags = self._flags()
        # na{k} is needed by the typed value of an allowed column: computed in a layer of its own.
        allowed = [f"{cond} as {name}" for name, cond in flags if name.startswith("na")]
        stored = []
        for c in self.entity.loaded_columns:
            k = self.index[c.name]
            value = f"_ps{k}.h" if k in self.hashed else self.t[c.name]
            stored.append(f'cast({value} as {SQL_TYPES[c.type]}) as "{stored_name(c)}"')
        bad = " or ".join(["ctl", *(name if name.startswith("na") else cond for name, cond in flags)])
        keys = ", ".join(f'"{stored_name(self.entity.column(k))}"' for k in self.entity.key)
        return f"""
            select * exclude (_w, _first), case when not _bad and _w > 1 then _first end as dup_first
            from (
                select *, row_number() over w as _w, first_value(_src) over w as _first
                from (
                    select _d, _src, {", ".join(stored)}, {bad} as _bad
                    from (select *{"".join(", " + a for a in allowed)} from ({self._layers(source, False)})) as v
                    {" ".join(joins)}
                )
                window w as (partition by _d, _bad, {keys} order by _src)
            )
        """

    def detail(self, source: str) -> str:
        joins, flags = self._flags()
        allowed = [f"{cond} as {name}" for name, cond in flags if name.startswith("na")]
        named = [f"{cond} as {name}" for name, cond in flags if not name.startswith("na")]
        extra = []
        for i in range(1, len(self.entity.sequence)):
            earlier = self.entity.sequence[:i]
            latest = f"greatest({', '.join(self.t[n] for n in earlier)})" if len(earlier) > 1 else self.t[earlier[0]]
            extra.append(
                "case "
                + " ".join(f"when {self.t[n]} = {latest} then {_q(n)}" for n in reversed(earlier))
                + f" end as seqp{i}"
            )
        if self.entity.elapsed_bounds:
            start, end, _, _ = self.entity.elapsed_bounds
            extra.append(f"date_diff('microsecond', {self.t[start]}, {self.t[end]}) / 1e6 as seconds")
        return f"""
            select v.*, {", ".join([*named, *extra]) or "null as none"}
            from (select *{"".join(", " + a for a in allowed)} from ({self._layers(source, True)})) as v
            {" ".join(joins)}
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
    hashed = [k for k, c in enumerate(entity.columns) if c.pseudonymise]
    for k in hashed:
        raw = f'"{entity.columns[k].name}"'
        pairs = con.execute(
            f"select distinct f.service_id, {_strip(raw)} as v from _rec join _files f using (_d) where v <> ''"
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
    rules = _Rules(entity, loaded_at, hashed)
    con.execute(
        "create or replace temp table _checked as "
        f"select *, not _bad and dup_first is null as _ok from ({rules.lean('_rec')})"
    )
    refused = "(select r.* from _rec r semi join (select _d, _src from _checked where not _ok) using (_d, _src))"
    rows = con.execute(
        f"select d.*, c.dup_first, c.* exclude (_d, _src, dup_first, _bad, _ok) from ({rules.detail(refused)}) d "
        "join _checked c using (_d, _src) order by _d, _src"
    ).fetchall()
    return _refused(con, entity, files, pseudonymise, rows) if rows else []


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
            "clean": pa.array([f.clean for f in files], type=pa.bool_()),
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
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[FileInfo], pseudonymise: Pseudonymiser, rows: list
) -> list[Refused]:
    """Each refused row's reasons, in the order the rules run, and its text minus personal data."""
    names = [d[0] for d in con.description]
    at = {n: i for i, n in enumerate(names)}
    personal = {c.name for c in entity.columns if c.personal}
    hashed = {c.name for c in entity.columns if c.pseudonymise}
    key_names = [stored_name(entity.column(k)) for k in entity.key]
    entity_index = {c.name: k for k, c in enumerate(entity.columns)}
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
            if f"bad{k}" in at and v(at[f"bad{k}"]):
                reasons.append(f"column {c.name}: {_describe(raw)} is not a valid {c.type}")
            if f"na{k}" in at and v(at[f"na{k}"]):
                reasons.append(f"column {c.name}: {_describe(raw)} is not an allowed code")
            if f"rng{k}" in at and v(at[f"rng{k}"]):
                reasons.append(f"column {c.name}: {_describe(raw)} outside {_g(c.minimum, -1)}..{_g(c.maximum, 1)}")
        for i, name in enumerate(entity.sequence[1:], start=1):
            if v(at[f"seq{i}"]):
                reasons.append(f"timestamps out of sequence: {name} before {v(at[f'seqp{i}'])}")
        if entity.elapsed_bounds:
            start, end, lo, hi = entity.elapsed_bounds
            seconds = v(at["seconds"])
            if v(at["elapsed"]):
                reasons.append(f"elapsed {start} to {end} of {seconds:.0f} s outside {lo:g}..{hi:g} s")
        for i, name in enumerate(entity.not_future):
            if v(at[f"fut{i}"]):
                reasons.append(f"column {name}: {v(at[f't{entity_index[name]}']):%Y-%m-%d} is in the future")
        if "per" in at and v(at["per"]):
            k = entity_index[entity.period_column]
            reasons.append(
                f"column {entity.period_column}: {v(at[f't{k}']):%Y-%m-%d} outside the file's period "
                f"{files[v(at['_d'])].period}"
            )
        for j, rule in enumerate(entity.known_codes):
            if v(at[f"kc{j}"]):
                k = entity_index[rule.column]
                reasons.append(f"column {rule.column}: code {_describe(v(at[f't{k}']))} not in {rule.ref_entity}")
        if v(at["dup_first"]) is not None:
            key = "|".join(str(v(at[n])) for n in key_names)
            reasons.append(f"duplicate key {key} (first at row {v(at['dup_first'])})")
        f = files[v(at["_d"])]
        safe = {}
        for name in f.columns or [c.name for c in entity.columns]:
            if name == ROW_COLUMN or name not in entity_index:
                continue
            value = v(at[f"c{entity_index[name]}"])
            if name in personal and value is not None:
                value = REDACTED
            elif name in hashed and value is not None:
                value = pseudonymise(f.service_id, str(value).strip())
            safe[name] = value
        out.append(
            Refused(v(at["_d"]), v(at["_src"]), "; ".join(reasons), json.dumps(safe, ensure_ascii=False, default=str))
        )
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
