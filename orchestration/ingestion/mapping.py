"""Source mappings: how one service's own extract becomes a source system's contract.

A mapping is a YAML file per service and system (``<mappings dir>/<service>/<system>.yml``) with
small CSV value maps beside it. It says which landed files it reads (patterns, period, encoding,
delimiter, header row), and for every contract column where its value comes from: a source
column (renamed), several joined (a timestamp from day, month name, year and time), a constant,
a value map from the service's vocabulary to the contract's codes, a unit conversion, a lookup
into another file, or nothing (the service does not record it). Applying a mapping gives the
same string-valued ``ReadResult`` a native extract gives, so the contract's checks, quarantine
and lineage are the same for every service.

Rows whose value a map lacks are quarantined, naming the value and the map; nothing is guessed.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from orchestration.ingestion.contracts import Entity, entities_for
from orchestration.ingestion.readers import ROW_COLUMN, Malformed, ReadResult, SchemaError, decode, read_csv_text

SHIPPED_MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "sources" / "mappings"
MAPPINGS_ENV = "GT_MAPPINGS_DIR"
NOT_RECORDED = "not_recorded"
WILDCARD = "*"


class MappingError(Exception):
    """A mapping file that cannot be used; the message names the file and what is wrong."""


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(_as_list)]

Transform = Literal["upper", "lower", "title", "integer", "trim"]
Unit = Literal["seconds", "minutes", "hours", "hh:mm:ss", "mm:ss"]


class MatchBefore(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before: str = Field(min_length=1, description="compare only the part before this separator, e.g. '>'")


class ColumnMap(BaseModel):
    """Where one contract column's value comes from."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Names | None = Field(default=None, alias="from")
    constant: str | None = None
    not_recorded: bool = False
    transform: Annotated[list[Transform], BeforeValidator(_as_list)] = []
    # Value map: a CSV beside the mapping (one column per source column, then ``code``), or inline.
    values: str | dict[str, str] | None = None
    match: Literal["exact", "insensitive", "prefix"] | MatchBefore = "insensitive"
    default: str | None = None
    formats: Names = []  # strptime formats tried in order for dates and timestamps
    unit: Unit | None = None
    lookup: Lookup | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnMap:
        origins = [self.source is not None, self.constant is not None, self.not_recorded, self.lookup is not None]
        if sum(origins) != 1:
            raise ValueError("give exactly one of 'from', 'constant', 'not_recorded' or 'lookup'")
        if self.values is None and self.default is not None:
            raise ValueError("'default' needs 'values'")
        return self


class Lookup(BaseModel):
    """Take a column from the rows another file gives through this service's mapping of it."""

    model_config = ConfigDict(extra="forbid")
    file: str  # beside the mapped file
    entity: str  # "system.entity" (or "entity" of the same system) mapped by this service's mapping
    key: str  # contract column present in both
    take: str  # contract column of the looked-up entity


ColumnMap.model_rebuild()


class ReadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    encoding: str = "auto"
    delimiter: str = ","
    header_row: int = Field(default=1, ge=1)
    sheet: str | None = None


class EntityMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: Names = []  # glob patterns in landing/<system>/<service>/, matched case-insensitively
    period: Literal["name", "split", "snapshot"] | None = None
    read: ReadOptions = ReadOptions()
    distinct: Names = []  # a derived list: one record per value of these contract columns
    columns: dict[str, ColumnMap | str]


class MappingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str
    system: str
    description: str = ""
    entities: dict[str, EntityMap]


@dataclass(frozen=True)
class ValueMap:
    """An ordered list of (source values, code) rules; ``*`` matches anything."""

    name: str  # for messages: the CSV's path relative to the mappings folder, or "inline"
    keys: tuple[str, ...]  # source columns
    rules: tuple[tuple[tuple[str, ...], str], ...]


@dataclass(frozen=True)
class Mapping:
    """One entity's mapping, checked against its contract."""

    service_id: str
    system: str
    entity: Entity
    spec: EntityMap
    path: Path  # the mapping file
    value_maps: dict[str, ValueMap]  # contract column -> its map

    @property
    def label(self) -> str:
        return f"{self.service_id}/{self.system}.yml ({self.entity.entity})"

    @property
    def period(self) -> str:
        if self.spec.period:
            return self.spec.period
        return "name" if self.entity.delivery == "monthly" else "snapshot"

    def column(self, name: str) -> ColumnMap:
        spec = self.spec.columns[name]
        return ColumnMap(**{"from": spec}) if isinstance(spec, str) else spec

    @property
    def not_recorded(self) -> list[str]:
        return [c for c in self.spec.columns if self.column(c).not_recorded]

    @property
    def source_columns(self) -> list[str]:
        """Every source column the mapping reads (the file must have them)."""
        seen: dict[str, None] = {}
        for name in self.spec.columns:
            for s in self.column(name).source or []:
                seen[s] = None
        return list(seen)

    def matches(self, file_name: str) -> bool:
        lowered = file_name.lower()
        return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in self.spec.files)


# ----------------------------------------------------------------------------- loading


def _load_value_map(folder: Path, mapping_file: Path, column: str, spec: ColumnMap) -> ValueMap:
    keys = tuple(spec.source or ())
    if isinstance(spec.values, dict):
        if len(keys) != 1:
            raise MappingError(f"{mapping_file}: column {column}: an inline value map needs exactly one 'from' column")
        return ValueMap("inline", keys, tuple(((k,), str(v)) for k, v in spec.values.items()))
    path = (mapping_file.parent / str(spec.values)).resolve()
    if not path.is_file():
        raise MappingError(f"{mapping_file}: column {column}: value map {spec.values} not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any unreadable CSV is the person's to fix
        raise MappingError(f"{path}: cannot read value map: {exc}") from exc
    wanted = [*keys, "code"]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise MappingError(
            f"{path}: value map for {column} needs the columns {', '.join(wanted)}; missing {', '.join(missing)}"
        )
    rules = tuple((tuple(row[k].strip() for k in keys), row["code"].strip()) for _, row in frame.iterrows())
    try:
        name = path.relative_to(folder).as_posix()
    except ValueError:
        name = path.name
    return ValueMap(name, keys, rules)


def load_mapping_file(path: Path, folder: Path | None = None) -> list[Mapping]:
    """Read and check one mapping file against the contracts; errors name the file and the field."""
    folder = (folder or path.parent.parent).resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: not readable YAML: {exc}") from exc
    try:
        spec = MappingFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(dict.fromkeys(_describe_error(e) for e in exc.errors() if not _is_string_branch(e)))
        raise MappingError(f"{path}: {problems}") from None
    contract = {e.entity: e for e in entities_for(spec.system)}
    if not contract:
        raise MappingError(f"{path}: system {spec.system!r} has no contract")
    if path.parent.name != spec.service:
        raise MappingError(f"{path}: service {spec.service!r} must match its folder {path.parent.name!r}")
    mappings = []
    for name, entity_spec in spec.entities.items():
        if name not in contract:
            raise MappingError(f"{path}: {spec.system} has no entity {name!r} (it has {', '.join(contract)})")
        entity = contract[name]
        expected = [c.name for c in entity.columns]
        unknown = [c for c in entity_spec.columns if c not in expected]
        if unknown:
            raise MappingError(f"{path}: {name}: not columns of the {entity.table} contract: {', '.join(unknown)}")
        absent = [c for c in expected if c not in entity_spec.columns]
        if absent:
            raise MappingError(
                f"{path}: {name}: say where these contract columns come from (or 'not_recorded: true'): "
                + ", ".join(absent)
            )
        mapping = Mapping(spec.service, spec.system, entity, entity_spec, path, {})
        for column in expected:
            col = mapping.column(column)
            if col.not_recorded and (column in entity.key or entity.column(column).required):
                raise MappingError(
                    f"{path}: {name}: {column} is required by the {entity.table} contract, so it cannot be "
                    "'not_recorded': map it from a source column or a constant"
                )
            if col.values is not None:
                mapping.value_maps[column] = _load_value_map(folder, path, column, col)
        for key in entity_spec.distinct:
            if key not in expected:
                raise MappingError(f"{path}: {name}: distinct column {key!r} is not in the contract")
        mappings.append(mapping)
    return mappings


def _describe_error(error: dict) -> str:
    # pydantic's location names its validators and union branches too; a person needs the fields.
    where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-") and p != "ColumnMap")
    return f"{where}: {error['msg']}"


def _is_string_branch(error: dict) -> bool:
    """The ``column: SourceName`` shorthand's branch of a column's union: noise when the long form failed."""
    return bool(error["loc"]) and error["loc"][-1] == "str" and len(error["loc"]) > 1


def mapping_dirs(extra: str | Path | None = None) -> tuple[Path, ...]:
    """The shipped mappings, then a service's own folder (``GT_MAPPINGS_DIR``), which wins."""
    dirs = [SHIPPED_MAPPINGS_DIR]
    if extra:
        dirs.append(Path(extra).expanduser().resolve())
    return tuple(dirs)


@functools.cache
def _load_all(dirs: tuple[Path, ...]) -> dict[tuple[str, str], Mapping]:
    found: dict[tuple[str, str], Mapping] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise MappingError(f"mappings folder {folder} does not exist")
        for path in sorted(folder.glob("*/*.yml")):
            for m in load_mapping_file(path, folder):
                found[(m.service_id, m.entity.table)] = m
    return found


def load_mappings(dirs: Iterable[Path] | None = None) -> dict[tuple[str, str], Mapping]:
    """Every mapping, by (service, raw table); a later folder's mapping replaces an earlier one."""
    return _load_all(tuple(dirs) if dirs is not None else mapping_dirs())


def mapping_for(service_id: str, table: str, dirs: Iterable[Path] | None = None) -> Mapping:
    found = load_mappings(dirs).get((service_id, table))
    if found is None:
        raise MappingError(f"no mapping for service {service_id!r} and {table}")
    return found


# ----------------------------------------------------------------------------- applying


def _normalise(value: str, mode: str | MatchBefore) -> str:
    if isinstance(mode, MatchBefore):
        value = value.split(mode.before, 1)[0]
    if mode == "exact":
        return value
    return " ".join(value.split()).lower()


def _rule_matches(pattern: str, value: str | None, mode: str | MatchBefore) -> bool:
    if pattern == WILDCARD:
        return True
    if value is None:
        return pattern == ""
    if mode == "prefix":
        return _normalise(value, "insensitive").startswith(_normalise(pattern, "insensitive"))
    return _normalise(value, mode) == _normalise(pattern, mode)


def _lookup_code(vmap: ValueMap, values: tuple[str | None, ...], mode: str | MatchBefore) -> str | None:
    for patterns, code in vmap.rules:
        if all(_rule_matches(p, v, mode) for p, v in zip(patterns, values, strict=True)):
            return code
    return None


def _integer_text(values: pd.Series) -> pd.Series:
    """``"416.0"`` -> ``"416"`` (a number a spreadsheet wrote as a float); anything else as it is."""
    whole = values.str.fullmatch(r"[+-]?\d+\.0*").fillna(False).astype(bool)
    return values.where(~whole, values.str.split(".").str[0])


def _apply_transforms(values: pd.Series, transforms: list[str]) -> pd.Series:
    for t in transforms:
        if t == "upper":
            values = values.str.upper()
        elif t == "lower":
            values = values.str.lower()
        elif t == "title":
            values = values.map(lambda v: string.capwords(v.lower()) if isinstance(v, str) else v)
        elif t == "integer":
            values = _integer_text(values)
    return values


def _to_seconds(values: pd.Series, unit: str) -> pd.Series:
    def one(text: object) -> object:
        if not isinstance(text, str):
            return text
        try:
            if unit in ("hh:mm:ss", "mm:ss"):
                parts = [float(p) for p in text.split(":")]
                if unit == "mm:ss" and len(parts) == 2:
                    parts = [0.0, *parts]
                if len(parts) != 3:
                    return text
                seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
            else:
                seconds = float(text) * {"seconds": 1, "minutes": 60, "hours": 3600}[unit]
        except ValueError:
            return text  # the contract's cast names it
        return f"{seconds:g}" if seconds != int(seconds) else str(int(seconds))

    return values.astype(object).map(one)


def _parse_formats(values: pd.Series, formats: list[str], kind: str) -> tuple[pd.Series, dict[str, int]]:
    """Dates or timestamps in any of ``formats`` -> ISO text; a value matching none is kept as it is,
    for the contract's cast to refuse with its own reason. Also returns how many values each format read."""
    out = values.copy()
    todo = values.notna()
    used: dict[str, int] = {}
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(values.where(todo), format=fmt, errors="coerce")
        ok = parsed.notna() & todo
        if ok.any():
            text = parsed[ok].dt.strftime("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S")
            out[ok] = text
            used[fmt] = int(ok.sum())
            todo &= ~ok
    return out, used


@dataclass
class MappedRead:
    """A file read through a mapping: the contract-shaped result and, for a multi-month file, each
    row's month (index-aligned with ``result.records``)."""

    result: ReadResult
    periods: pd.Series | None = None
    unmapped: dict[tuple[str, str], int] | None = None  # (column, value) -> rows
    header: list[str] | None = None  # the source file's own columns, as found


def _read_source(mapping: Mapping, path: Path, data: bytes | None) -> ReadResult:
    options = mapping.spec.read
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from orchestration.ingestion.readers import read_xlsx_sheet

        sheet = options.sheet or mapping.entity.sheet
        if not sheet:
            raise SchemaError(f"{path.name}: say which worksheet to read ('read: sheet:' in {mapping.label})")
        return read_xlsx_sheet(path, sheet, data=data)
    raw = path.read_bytes() if data is None else data
    if options.encoding == "auto":
        text, encoding, warnings = decode(raw)
    else:
        try:
            text, encoding, warnings = raw.decode(options.encoding).removeprefix("\ufeff"), options.encoding, []
        except (UnicodeDecodeError, LookupError) as exc:
            raise SchemaError(f"{path.name}: not readable as {options.encoding} ({exc})") from exc
    skipped = 0
    if options.header_row > 1:
        lines = text.splitlines(keepends=True)
        skipped = options.header_row - 1
        text = "".join(lines[skipped:])
    result = read_csv_text(text, delimiter=options.delimiter)
    if skipped:
        result.records[ROW_COLUMN] += skipped
        for m in result.malformed:
            m.row += skipped
    result.encoding, result.warnings = encoding, list(warnings)
    return result


def apply_mapping(mapping: Mapping, path: Path, data: bytes | None = None, *, _depth: int = 0) -> MappedRead:
    """Read ``path`` through ``mapping``: the contract's columns as strings, plus quarantined rows."""
    entity = mapping.entity
    raw = _read_source(mapping, path, data)
    found = set(raw.columns)
    missing = [c for c in mapping.source_columns if c not in found]
    if missing:
        raise SchemaError(
            f"{path.name}: columns the mapping {mapping.label} reads are missing: {', '.join(missing)}"
            f" (the file has: {', '.join(raw.columns)})"
        )
    src = raw.records
    n = len(src)
    # Every value trimmed (the non-breaking spaces and stray newlines exports leave); blank -> missing.
    cleaned: dict[str, pd.Series] = {}
    for c in mapping.source_columns:
        col = src[c].astype("string").str.strip()
        cleaned[c] = col.where(col != "", pd.NA).astype(object).where(lambda s: s.notna(), None)
    out: dict[str, pd.Series] = {}
    problems: dict[int, list[str]] = {}
    unmapped: dict[tuple[str, str], int] = {}
    warnings: list[str] = list(raw.warnings)
    for column in entity.columns:
        spec = mapping.column(column.name)
        if spec.not_recorded or spec.lookup is not None:
            out[column.name] = pd.Series([None] * n, dtype=object, index=src.index)
            continue
        if spec.constant is not None:
            out[column.name] = pd.Series([spec.constant] * n, dtype=object, index=src.index)
            continue
        sources = [cleaned[s] for s in spec.source or []]
        if column.name in mapping.value_maps:
            values = _map_values(mapping, column.name, spec, sources, problems, unmapped)
        elif len(sources) == 1:
            values = sources[0]
        else:
            # Joined with spaces; any part missing -> missing (a date alone is not a timestamp).
            frame = pd.concat(sources, axis=1)
            complete = frame.notna().all(axis=1)
            values = frame.astype(str).agg(" ".join, axis=1).where(complete, None)
        values = values.astype(object)
        if spec.transform:
            values = _apply_transforms(values.astype("string"), spec.transform).astype(object)
        if spec.unit:
            values = _to_seconds(values, spec.unit)
        if spec.formats:
            values, used = _parse_formats(values, spec.formats, "date" if column.type == "date" else "timestamp")
            if len(used) > 1:
                styles = ", ".join(f"{fmt} ({count})" for fmt, count in used.items())
                warnings.append(f"{column.name}: several formats in one file: {styles}")
        values = values.astype(object)
        out[column.name] = values.where(pd.notna(values), None)

    for column in entity.columns:
        spec = mapping.column(column.name)
        if spec.lookup is not None:
            out[column.name] = _lookup(mapping, spec.lookup, path, out, warnings, _depth)

    malformed = list(raw.malformed)
    if problems:
        rows = src[ROW_COLUMN].to_numpy()
        lines = None
        for i in sorted(problems):
            if lines is None:
                lines = _physical_lines(path, data)
            malformed.append(Malformed(int(rows[i]), "; ".join(problems[i]), _line(lines, int(rows[i]))))
        keep = np.ones(n, dtype=bool)
        keep[sorted(problems)] = False
    else:
        keep = np.ones(n, dtype=bool)
    records = pd.DataFrame({c.name: out[c.name] for c in entity.columns}, index=src.index)
    records[ROW_COLUMN] = src[ROW_COLUMN].astype("int64")
    records = records.loc[keep].reset_index(drop=True)
    if mapping.spec.distinct:
        records = _distinct(records, mapping.spec.distinct)
    malformed.sort(key=lambda m: m.row)
    result = ReadResult([c.name for c in entity.columns], records, malformed, raw.encoding, warnings)
    periods = None
    if mapping.period == "split" and entity.period_column:
        periods = records[entity.period_column].astype("string").str.extract(r"^(\d{4}-\d{2})", expand=False)
    return MappedRead(result, periods, unmapped, list(raw.columns))


def _map_values(
    mapping: Mapping,
    column: str,
    spec: ColumnMap,
    sources: list[pd.Series],
    problems: dict[int, list[str]],
    unmapped: dict[tuple[str, str], int],
) -> pd.Series:
    """Codes through the column's value map, resolved once per distinct combination of source values."""
    vmap = mapping.value_maps[column]
    frame = pd.concat(sources, axis=1, keys=list(vmap.keys))
    present = frame.notna().any(axis=1).to_numpy()
    keys = list(zip(*(frame[k].tolist() for k in vmap.keys), strict=True)) if len(frame) else []
    codes: dict[tuple, str | None] = {}
    out = np.full(len(keys), None, dtype=object)
    positions = np.arange(len(keys))
    for i, key in zip(positions, keys, strict=True):
        if key not in codes:
            code = _lookup_code(vmap, key, spec.match)
            codes[key] = spec.default if code is None and any(v is not None for v in key) else code
        code = codes[key]
        if code is None and present[i]:
            shown = " | ".join("" if v is None else v for v in key)
            where = ", ".join(vmap.keys)
            problems.setdefault(int(i), []).append(
                f"column {column}: {shown!r} ({where}) is not in the value map {vmap.name} of {mapping.label}"
            )
            unmapped[(column, shown)] = unmapped.get((column, shown), 0) + 1
        elif code != NOT_RECORDED:
            out[i] = code or None
    return pd.Series(out, index=sources[0].index if sources else None, dtype=object)


def _lookup(
    mapping: Mapping, lookup: Lookup, path: Path, out: dict[str, pd.Series], warnings: list[str], depth: int
) -> pd.Series:
    if depth > 2:
        raise SchemaError(f"{mapping.label}: lookups nest too deeply")
    system, _, name = lookup.entity.rpartition(".")
    other_file = mapping.path.parent / f"{system or mapping.system}.yml"
    others = [m for m in load_mapping_file(other_file) if m.entity.entity == name] if other_file.is_file() else []
    if not others:
        raise SchemaError(f"{mapping.label}: the lookup needs a mapping of {lookup.entity} in {other_file.name}")
    other = others[0]
    source = path.parent / lookup.file
    if source.is_symlink() or not source.is_file():
        raise SchemaError(f"{path.name}: {lookup.file}, which the mapping {mapping.label} looks up, is not beside it")
    looked = apply_mapping(other, source, _depth=depth + 1).result.records
    table = dict(zip(looked[lookup.key], looked[lookup.take], strict=True))
    values = out[lookup.key].map(lambda k: table.get(k) if k is not None else None)
    unmatched = int(values.isna().sum())
    if unmatched:
        warnings.append(f"{unmatched} rows have no {lookup.take} in {lookup.file}")
    return values.astype(object).where(values.notna(), None)


def _distinct(records: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One record per key (its first row in the file), rows without a key left out: a list derived
    from an extract (a service's stations from its incidents), received as that many records."""
    have = records[keys].notna().all(axis=1)
    first = records.loc[have].sort_values(ROW_COLUMN, kind="stable").drop_duplicates(keys, keep="first")
    return first.reset_index(drop=True)


def _physical_lines(path: Path, data: bytes | None) -> list[str]:
    text, _, _ = decode(path.read_bytes() if data is None else data)
    return text.splitlines()


def _line(lines: list[str], row: int) -> str:
    return lines[row - 1] if 0 < row <= len(lines) else ""


# ----------------------------------------------------------------------------- landed files

_PERIOD_IN_NAME = re.compile(r"(?<!\d)(\d{4})[-_]?(0[1-9]|1[0-2])(?!\d)")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_REVISION_IN_NAME = re.compile(r"[_ -]r(\d+)(?=\.[^.]+$)", re.IGNORECASE)


def mapped_file_period(mapping: Mapping, path: Path) -> tuple[str | None, int] | None:
    """(period, revision) of a landed file the mapping reads; None when the name does not give the
    period the mapping says it does. A split file's period is None here (each row gives its own)."""
    revision_match = _REVISION_IN_NAME.search(path.name)
    revision = int(revision_match.group(1)) if revision_match else 1
    if mapping.period == "split":
        return None, revision
    if mapping.period == "name":
        m = _PERIOD_IN_NAME.search(path.name)
        return (f"{m[1]}-{m[2]}", revision) if m else None
    m = _DATE_IN_NAME.search(path.name)
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}", revision
    import datetime as dt

    return dt.date.fromtimestamp(path.lstat().st_mtime).isoformat(), revision


def expected_names(mapping: Mapping) -> str:
    """The names a mapping reads, for a refusal message."""
    where = {"name": " (with the month as YYYY-MM in the name)", "split": "", "snapshot": ""}[mapping.period]
    return " or ".join(mapping.spec.files) + where
