"""Source-system contracts: loads ``sources/contracts/*.yml`` into the dataclasses every stage uses.

The YAML files are the single source of truth shared by the simulator (which writes files that
meet them), the real-data adapters (which map public files onto them) and the ingestion engine
(which enforces them). They are read once, validated with pydantic, and a bad contract raises a
``ContractError`` naming the file and the field. Landing layout:
``landing/<system>/<service_id>/<stem>_<period>[_r<N>].<ext>`` where ``period`` is ``YYYY-MM`` for
monthly deliveries, ``YYYY-MM-DD`` (the extract date) for snapshots and ``FYYYYY-YY`` (e.g.
``FY2025-26``) for the Annual Plan. ``python -m orchestration.ingestion.contracts --write-docs``
writes the reference page ``docs/contracts.md``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

ColumnType = Literal["str", "int", "float", "date", "timestamp", "bool"]
Delivery = Literal["monthly", "snapshot", "financial_year"]
FileFormat = Literal["csv", "jsonl", "xlsx", "json"]

SHIPPED_CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "sources" / "contracts"
CODES_FILE = "_codes.yml"
SYSTEMS_FILE = "_systems.yml"

# Values accepted for booleans in source extracts (case-insensitive).
TRUE_VALUES = frozenset({"y", "yes", "true", "t", "1"})
FALSE_VALUES = frozenset({"n", "no", "false", "f", "0"})

LINEAGE_COLUMNS = ("_source_file", "_source_row", "_file_sha256", "_batch_id", "_loaded_at")


class ContractError(Exception):
    """A contract file that cannot be used; the message names the file and the field."""


# ----------------------------------------------------------------------------- what callers use


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "str"
    required: bool = False
    # personal: dropped at ingestion, never written anywhere (staff names).
    personal: bool = False
    # pseudonymise: replaced by a keyed hash (HMAC-SHA256) before loading.
    pseudonymise: bool = False
    # allowed: a closed code list (checked case-insensitively, stored as given).
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


@dataclass(frozen=True)
class KnownCode:
    """Referential rule: ``column`` must exist in ``ref_entity.ref_column`` for the same service.

    ``ref_entity`` is an entity of the reference system. Skipped for a service that has no
    reference rows at all (e.g. real LFB data has no wards).
    """

    column: str
    ref_entity: str
    ref_column: str


@dataclass(frozen=True)
class Entity:
    system: str
    entity: str
    stem: str  # file-name stem before the period, e.g. "incidents"
    format: FileFormat
    delivery: Delivery
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    sheet: str | None = None  # xlsx sheet name
    json_path: str | None = None  # json: "activities" or "activities[].status_updates"
    # Timestamps that must be non-decreasing in this order (mobilising).
    sequence: tuple[str, ...] = ()
    # (start column, end column, min seconds, max seconds) for an elapsed-time bound.
    elapsed_bounds: tuple[str, str, float, float] | None = None
    # Date/timestamp columns that may not lie in the future (after the load time, or after
    # the end of a monthly file's period).
    not_future: tuple[str, ...] = ()
    # Column whose month must equal a monthly file's period.
    period_column: str | None = None
    known_codes: tuple[KnownCode, ...] = ()
    # A re-delivery of a month (or snapshot) that already has a current delivery with rows is held
    # for a person to accept when it would shrink that delivery's rows loaded by more than this
    # per cent, or when it loses more than ``hold_quarantine_pct`` per cent of its rows to quarantine.
    hold_shrink_pct: float = 20.0
    hold_quarantine_pct: float = 5.0
    description: str = ""

    @property
    def table(self) -> str:
        return f"{self.system}__{self.entity}"

    @property
    def extension(self) -> str:
        return "jsonl" if self.format == "jsonl" else self.format

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def loaded_columns(self) -> tuple[Column, ...]:
        """Columns that reach the warehouse (personal columns never do)."""
        return tuple(c for c in self.columns if not c.personal)


@dataclass(frozen=True)
class Contracts:
    """Every contract in one folder, by kind (see ``_systems.yml``)."""

    directory: Path
    systems: tuple[str, ...]  # a service's source systems, in their fixed order
    entities: tuple[Entity, ...]  # their entities, reference data first
    national_entities: tuple[Entity, ...]  # Home Office / ONS tables (real_data.py)
    app_entities: tuple[Entity, ...]  # the app's own store (app_store.py)
    codes: dict[str, tuple[str, ...]]
    system_descriptions: dict[str, str]

    @property
    def all_entities(self) -> tuple[Entity, ...]:
        return (*self.entities, *self.national_entities, *self.app_entities)


# ----------------------------------------------------------------------------- the YAML schema

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\n]*$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Spec):
    name: Name
    type: ColumnType
    required: bool = False
    personal: bool = False
    pseudonymise: bool = False
    # A list of codes, or the name of a list in _codes.yml.
    allowed: Name | list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: OneLine

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.type in ("int", "float"):
            # Every number gets a range no real value can exceed, so -50 s or 1e12 s never loads.
            if self.minimum is None or self.maximum is None:
                raise ValueError(f"{self.type} column needs both minimum and maximum")
            if self.minimum > self.maximum:
                raise ValueError(f"minimum {self.minimum:g} is above maximum {self.maximum:g}")
        elif self.minimum is not None or self.maximum is not None:
            raise ValueError(f"minimum and maximum apply to int and float columns, not {self.type}")
        if self.allowed is not None and self.type != "str":
            raise ValueError(f"allowed codes apply to str columns, not {self.type}")
        if isinstance(self.allowed, list) and not self.allowed:
            raise ValueError("allowed is an empty list")
        if self.personal and (self.pseudonymise or self.required):
            raise ValueError("a personal column is dropped: it cannot also be pseudonymised or required")
        return self


class ElapsedBoundsSpec(_Spec):
    start: Name
    end: Name
    min_seconds: float
    max_seconds: float


class EntitySpec(_Spec):
    entity: Name
    description: OneLine
    stem: str = Field(min_length=1)
    format: FileFormat
    delivery: Delivery
    sheet: str | None = None
    json_path: str | None = None
    key: list[Name] = Field(min_length=1)
    sequence: list[Name] = []
    elapsed_bounds: ElapsedBoundsSpec | None = None
    not_future: list[Name] = []
    period_column: Name | None = None
    # column -> "<reference entity>.<column>"
    known_codes: dict[Name, Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]] = {}
    # A re-delivery is held for a person when it shrinks its month by more than this per cent, or
    # loses more than ``hold_quarantine_pct`` per cent of its rows to quarantine.
    hold_shrink_pct: float = Field(default=20.0, ge=0, le=100)
    hold_quarantine_pct: float = Field(default=5.0, ge=0, le=100)
    columns: list[ColumnSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _columns_declared(self) -> EntitySpec:
        types = {c.name: c.type for c in self.columns}
        if len(types) != len(self.columns):
            seen: set[str] = set()
            twice = sorted({c.name for c in self.columns if c.name in seen or seen.add(c.name)})
            raise ValueError(f"columns declared twice: {', '.join(twice)}")
        uses = {
            "key": self.key,
            "sequence": self.sequence,
            "not_future": self.not_future,
            "period_column": [self.period_column] if self.period_column else [],
            "elapsed_bounds": [self.elapsed_bounds.start, self.elapsed_bounds.end] if self.elapsed_bounds else [],
            "known_codes": list(self.known_codes),
        }
        for where, names in uses.items():
            missing = [n for n in names if n not in types]
            if missing:
                raise ValueError(f"{where} names a column not declared in columns: {', '.join(missing)}")
        for where in ("sequence", "not_future", "period_column", "elapsed_bounds"):
            wrong = [n for n in uses[where] if types[n] not in ("date", "timestamp")]
            if wrong:
                raise ValueError(f"{where} column must be a date or timestamp: {', '.join(wrong)}")
        personal_keys = [c.name for c in self.columns if c.personal and c.name in self.key]
        if personal_keys:
            raise ValueError(f"key column is personal (dropped at ingestion): {', '.join(personal_keys)}")
        if (self.format == "xlsx") != (self.sheet is not None):
            raise ValueError("sheet is needed for an xlsx entity, and only there")
        if (self.format == "json") != (self.json_path is not None):
            raise ValueError("json_path is needed for a json entity, and only there")
        if self.period_column and self.delivery != "monthly":
            raise ValueError("period_column applies to monthly deliveries only")
        return self


class SystemSpec(_Spec):
    system: Name
    description: OneLine
    entities: list[EntitySpec] = Field(min_length=1)


class SystemsSpec(_Spec):
    services: list[Name] = Field(min_length=1)
    national: list[Name] = []
    app: list[Name] = []


CodesSpec = dict[Name, Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)]]


# ----------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> Any:
    try:
        # libyaml's loader when present: ten times faster than the pure-Python one (0.07 s vs 0.7 s).
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise ContractError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a readable path, naming list items by their name,
    e.g. ``entities[0] (incidents).columns[3] (call_at).type``."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            label = item.get("name") or item.get("entity") if isinstance(item, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{step}]" + (f" ({label})" if label else "")]
            node = item
        elif isinstance(node, dict):
            parts.append(step)
            node = node.get(step)
        # else: pydantic's name for one branch of a union (``list[str]``, ``float``), not a field
    return ".".join(parts) or "(top level)"


def _either(messages: list[str]) -> str:
    """One message for the branches of a union: 'Input should be a valid string or a valid list'."""
    messages = list(dict.fromkeys(messages))
    lead = "Input should be "
    if len(messages) > 1 and all(m.startswith(lead) for m in messages):
        return lead + " or ".join(m.removeprefix(lead) for m in messages)
    return "; ".join(messages)


def _validated(model: Any, path: Path, data: Any) -> Any:
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        by_place: dict[str, list[str]] = {}
        for e in exc.errors():
            by_place.setdefault(_where(data, tuple(e["loc"])), []).append(e["msg"].removeprefix("Value error, "))
        problems = "; ".join(f"{place}: {_either(messages)}" for place, messages in by_place.items())
        raise ContractError(f"{path}: {problems}") from None


def _whole(value: float | None) -> float | None:
    """Bounds written as whole numbers stay ints, as they were in Python (messages print 500, not 500.0)."""
    return int(value) if value is not None and value.is_integer() else value


def _column(spec: ColumnSpec, codes: dict[str, tuple[str, ...]], where: str) -> Column:
    allowed: tuple[str, ...] | None
    if isinstance(spec.allowed, str):
        if spec.allowed not in codes:
            raise ContractError(
                f"{where}.allowed: unknown code list {spec.allowed!r} (lists in {CODES_FILE}: {', '.join(codes)})"
            )
        allowed = codes[spec.allowed]
    else:
        allowed = None if spec.allowed is None else tuple(spec.allowed)
    return Column(
        spec.name,
        spec.type,
        required=spec.required,
        personal=spec.personal,
        pseudonymise=spec.pseudonymise,
        allowed=allowed,
        minimum=_whole(spec.minimum),
        maximum=_whole(spec.maximum),
        description=spec.description,
    )


def _entity(system: str, spec: EntitySpec, codes: dict[str, tuple[str, ...]], where: str) -> Entity:
    bounds = spec.elapsed_bounds
    return Entity(
        system,
        spec.entity,
        spec.stem,
        spec.format,
        spec.delivery,
        tuple(_column(c, codes, f"{where}.columns[{i}] ({c.name})") for i, c in enumerate(spec.columns)),
        key=tuple(spec.key),
        sheet=spec.sheet,
        json_path=spec.json_path,
        sequence=tuple(spec.sequence),
        elapsed_bounds=None
        if bounds is None
        else (bounds.start, bounds.end, _whole(bounds.min_seconds), _whole(bounds.max_seconds)),
        not_future=tuple(spec.not_future),
        period_column=spec.period_column,
        known_codes=tuple(KnownCode(col, *ref.split(".")) for col, ref in spec.known_codes.items()),
        hold_shrink_pct=spec.hold_shrink_pct,
        hold_quarantine_pct=spec.hold_quarantine_pct,
        description=spec.description,
    )


def _check_known_codes(entities: dict[str, tuple[Entity, ...]], directory: Path) -> None:
    reference = {e.entity: e for e in entities.get("reference", ())}
    for system, found in entities.items():
        for i, e in enumerate(found):
            for rule in e.known_codes:
                where = f"{directory / f'{system}.yml'}: entities[{i}] ({e.entity}).known_codes.{rule.column}"
                target = reference.get(rule.ref_entity)
                if target is None:
                    raise ContractError(
                        f"{where}: {rule.ref_entity!r} is not an entity of the reference system "
                        f"({', '.join(reference) or 'none'})"
                    )
                if rule.ref_column not in {c.name for c in target.columns}:
                    raise ContractError(
                        f"{where}: reference entity {rule.ref_entity!r} has no column {rule.ref_column!r}"
                    )


@functools.cache
def load_contracts(directory: Path = SHIPPED_CONTRACTS_DIR) -> Contracts:
    """Read and check every contract in ``directory`` (cached per folder)."""
    directory = Path(directory)
    systems_path, codes_path = directory / SYSTEMS_FILE, directory / CODES_FILE
    kinds: SystemsSpec = _validated(SystemsSpec, systems_path, _read_yaml(systems_path))
    raw_codes = _validated(CodesSpec, codes_path, _read_yaml(codes_path) or {})
    codes = {name: tuple(values) for name, values in raw_codes.items()}

    listed = [*kinds.services, *kinds.national, *kinds.app]
    twice = sorted({s for s in listed if listed.count(s) > 1})
    if twice:
        raise ContractError(f"{systems_path}: systems listed more than once: {', '.join(twice)}")
    on_disk = {p.stem for p in directory.glob("*.yml") if not p.name.startswith("_")}
    unlisted = sorted(on_disk - set(listed))
    if unlisted:
        raise ContractError(f"{systems_path}: contract files not listed here: {', '.join(unlisted)}")

    entities: dict[str, tuple[Entity, ...]] = {}
    descriptions: dict[str, str] = {}
    for system in listed:
        path = directory / f"{system}.yml"
        if not path.exists():
            raise ContractError(f"{systems_path}: lists system {system!r} but {path} does not exist")
        data = _read_yaml(path)
        spec: SystemSpec = _validated(SystemSpec, path, data)
        if spec.system != system:
            raise ContractError(f"{path}: system: {spec.system!r} does not match the file name ({system!r})")
        names = [e.entity for e in spec.entities]
        if len(set(names)) != len(names):
            raise ContractError(f"{path}: entities: an entity name is used twice ({', '.join(names)})")
        entities[system] = tuple(
            _entity(system, e, codes, f"{path}: entities[{i}] ({e.entity})") for i, e in enumerate(spec.entities)
        )
        descriptions[system] = spec.description
    _check_known_codes(entities, directory)

    # Reference data first: other systems' known-code rules read it.
    services = sorted(kinds.services, key=lambda s: s != "reference")
    return Contracts(
        directory=directory,
        systems=tuple(kinds.services),
        entities=tuple(e for s in services for e in entities[s]),
        national_entities=tuple(e for s in kinds.national for e in entities[s]),
        app_entities=tuple(e for s in kinds.app for e in entities[s]),
        codes=codes,
        system_descriptions=descriptions,
    )


# ----------------------------------------------------------------------------- public API


def __getattr__(name: str) -> Any:
    # ENTITIES and SYSTEMS are read on first use, so a bad contract is reported by whoever
    # uses it (or by ``--check``) rather than by every import of this module.
    if name == "ENTITIES":
        return load_contracts().entities
    if name == "SYSTEMS":
        return load_contracts().systems
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def entity(table: str) -> Entity:
    """Look up a service system's entity by raw table name, e.g. ``irs__incidents``."""
    for e in load_contracts().entities:
        if e.table == table:
            return e
    raise KeyError(f"no contract for raw table {table!r}")


def entities_for(system: str) -> tuple[Entity, ...]:
    return tuple(e for e in load_contracts().entities if e.system == system)


def code_list(name: str) -> tuple[str, ...]:
    """A shared code list from ``_codes.yml``, e.g. ``code_list("watches")``."""
    try:
        return load_contracts().codes[name]
    except KeyError:
        raise KeyError(f"no code list {name!r} in {SHIPPED_CONTRACTS_DIR / CODES_FILE}") from None


def system_description(system: str) -> str:
    return load_contracts().system_descriptions[system]


# ----------------------------------------------------------------------------- simulator faults
# Not contract data: the simulator's vocabulary for the faults it plants and the oracle scores.


@dataclass(frozen=True)
class FaultClass:
    name: str
    level: Literal["record", "file"]
    description: str


# The simulator's fault manifest uses exactly these names.
FAULT_CLASSES: tuple[FaultClass, ...] = (
    FaultClass("duplicate", "record", "the same record delivered twice in one file"),
    FaultClass("missing_mandatory", "record", "a required field is empty"),
    FaultClass(
        "out_of_sequence", "record", "mobilising timestamps not in call → mobilised → mobile → attendance order"
    ),
    FaultClass("bad_response_time", "record", "total response time negative or over one hour"),
    FaultClass("future_date", "record", "a date after the extract was produced"),
    FaultClass("unknown_code", "record", "a station or ward code not in the reference data"),
    FaultClass("text_in_numeric", "record", "text in a numeric field"),
    FaultClass("malformed_row", "record", "a CSV row with the wrong number of fields"),
    FaultClass("encoding_cp1252", "file", "a file encoded in Windows-1252 rather than UTF-8"),
    FaultClass("schema_drift", "file", "a file whose columns were renamed or dropped"),
    FaultClass("redelivery", "file", "a late correction file that re-delivers a month"),
)
FAULT_CLASS_NAMES = tuple(f.name for f in FAULT_CLASSES)


@dataclass
class ManifestEntry:
    """One line of the simulator's ground-truth fault manifest."""

    system: str
    file: str  # path relative to the landing directory
    fault_class: str
    record_key: str | None = None  # key values joined by '|'; None for file-level faults
    row: int | None = None  # physical line (CSV/JSONL) or sheet row (XLSX), header = 1 for CSV/XLSX
    detail: str = ""
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m orchestration.ingestion.contracts", description=__doc__)
    parser.add_argument("--check", action="store_true", help="check the contracts and exit")
    parser.add_argument("--write-docs", action="store_true", help="write docs/contracts.md from the contracts")
    parser.add_argument("--dir", type=Path, default=SHIPPED_CONTRACTS_DIR, help="the contracts folder to read")
    args = parser.parse_args(argv)
    try:
        contracts = load_contracts(args.dir)
    except ContractError as exc:
        print(f"bad contract: {exc}", file=sys.stderr)
        return 1
    if args.write_docs:
        from orchestration.ingestion.contract_docs import DOCS_PATH, render

        DOCS_PATH.write_text(render(contracts), encoding="utf-8")
        print(f"wrote {DOCS_PATH}")
    else:
        print(f"{len(contracts.all_entities)} entities in {contracts.directory}: contracts are valid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
