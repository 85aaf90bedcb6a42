"""A dry run of one extract through its service's mapping: what would load, what would not, and why.

``python -m orchestration.cli sources check FILE --service X --system irs`` reads the file, applies
the mapping and the contract's row rules, and prints coverage. It writes nothing and records no
history: the file can be checked as often as the mapping is edited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orchestration.ingestion.contracts import entities_for
from orchestration.ingestion.mapping import Mapping, MappingError, apply_mapping, load_mappings, mapping_dirs
from orchestration.ingestion.readers import SchemaError
from orchestration.ingestion.validate import FileSpan, Pseudonymiser, validate

SAMPLE_REJECTS = 10


@dataclass
class CheckReport:
    file: str
    mapping: str
    encoding: str = ""
    rows_received: int = 0
    rows_loadable: int = 0
    rows_quarantined: int = 0
    columns: list[tuple[str, str]] = field(default_factory=list)  # (contract column, where it comes from)
    months: dict[str, int] = field(default_factory=dict)
    unmapped: list[tuple[str, str, int]] = field(default_factory=list)  # (column, value, rows)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (row, reason), a sample
    reasons: list[tuple[str, int]] = field(default_factory=list)  # (reason without the value, rows)
    unused_source_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def render(self) -> str:
        lines = [f"{self.file} through {self.mapping}"]
        if self.error:
            return "\n".join([*lines, f"  refused: {self.error}"])
        lines.append(f"  encoding: {self.encoding}")
        lines.append(
            f"  rows: {self.rows_received:,} received, {self.rows_loadable:,} would load, "
            f"{self.rows_quarantined:,} would be quarantined"
        )
        if self.months:
            lines.append("  months: " + ", ".join(f"{m} ({n:,})" for m, n in sorted(self.months.items())))
        lines.append("  columns:")
        width = max((len(c) for c, _ in self.columns), default=10)
        lines += [f"    {c:<{width}}  {origin}" for c, origin in self.columns]
        if self.unused_source_columns:
            lines.append("  source columns not used: " + ", ".join(self.unused_source_columns))
        lines.append("  unmapped values:" + ("" if self.unmapped else " none"))
        lines += [f"    {c}: {v!r} in {n:,} row{'s' if n != 1 else ''}" for c, v, n in self.unmapped]
        if self.reasons:
            lines.append("  why rows would be quarantined:")
            lines += [f"    {n:>7,}  {reason}" for reason, n in self.reasons]
        if self.rejects:
            lines.append(f"  sample rejects (first {len(self.rejects)}):")
            lines += [f"    row {row}: {reason}" for row, reason in self.rejects]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _origin(mapping: Mapping, column: str) -> str:
    spec = mapping.column(column)
    if spec.not_recorded:
        return "not recorded"
    if spec.constant is not None:
        return f"constant {spec.constant!r}"
    if spec.lookup is not None:
        return f"{spec.lookup.take} looked up in {spec.lookup.file} by {spec.lookup.key}"
    text = "<- " + " + ".join(spec.source or [])
    if column in mapping.value_maps:
        vmap = mapping.value_maps[column]
        mode = spec.match if isinstance(spec.match, str) else f"before {spec.match.before!r}"
        text += f" via {vmap.name} ({mode}{', default ' + repr(spec.default) if spec.default else ''})"
    if spec.formats:
        text += f" as {' or '.join(spec.formats)}"
    if spec.unit and spec.unit != "seconds":
        text += f" from {spec.unit} to seconds"
    if spec.transform:
        text += f" ({', '.join(spec.transform)})"
    return text


def _reason_kind(reason: str) -> str:
    """A reason without the value it quotes, to count rows by kind of problem."""
    head, sep, _ = reason.partition(": ")
    rest = reason[len(head) + len(sep) :]
    for marker in (" is not ", " outside ", " required ", " before ", " after "):
        if marker in rest:
            return f"{head}: ...{marker}{rest.split(marker, 1)[1]}"[:160]
    return reason[:160]


def check_file(path: Path, service_id: str, system: str, entity: str | None = None, mappings_dir=None) -> CheckReport:
    """Read ``path`` through the service's mapping for ``system`` and apply the contract's row rules
    (reference codes are not checked: they need the warehouse)."""
    mappings = load_mappings(mapping_dirs(mappings_dir))
    candidates = [
        m
        for (service, _), m in mappings.items()
        if service == service_id and m.system == system and (entity is None or m.entity.entity == entity)
    ]
    if not candidates:
        known = sorted({f"{s} {m.system}.{m.entity.entity}" for (s, _), m in mappings.items()})
        entities = ", ".join(e.entity for e in entities_for(system)) or "none: unknown system"
        raise MappingError(
            f"no mapping for service {service_id!r}, system {system!r}"
            + (f", entity {entity!r}" if entity else "")
            + f" (entities of {system}: {entities}; mappings found: {', '.join(known) or 'none'})"
        )
    if len(candidates) > 1:
        matching = [m for m in candidates if m.matches(path.name)]
        if len(matching) != 1:
            names = ", ".join(m.entity.entity for m in candidates)
            raise MappingError(f"{service_id}/{system}.yml maps several entities ({names}): say which with --entity")
        candidates = matching
    mapping = candidates[0]
    report = CheckReport(str(path), mapping.label)
    if path.is_symlink() or not path.is_file():
        report.error = "not a regular file"
        return report
    try:
        mapped = apply_mapping(mapping, path)
    except SchemaError as exc:
        report.error = str(exc)
        return report
    result = mapped.result
    report.encoding = result.encoding
    report.warnings = list(result.warnings)
    report.rows_received = result.rows_received
    report.columns = [(c.name, _origin(mapping, c.name)) for c in mapping.entity.columns]
    report.unused_source_columns = [c for c in mapped.header or [] if c not in mapping.source_columns]
    report.unmapped = [(c, v, n) for (c, v), n in sorted((mapped.unmapped or {}).items())]

    records = result.records
    rejected: list[tuple[int, str]] = [(m.row, m.reason) for m in result.malformed]
    if len(records):
        periods = mapped.periods
        if periods is not None:
            order = periods.fillna("").sort_values(kind="stable").index
            records, periods = records.loc[order].reset_index(drop=True), periods.loc[order].reset_index(drop=True)
            bounds = periods.fillna("").groupby(periods.fillna(""), sort=False).size()
            spans, start = [], 0
            for month, n in bounds.items():
                spans.append(FileSpan(start, start + n, month or None, tuple(result.columns)))
                start += n
        else:
            spans = [FileSpan(0, len(records), None, tuple(result.columns))]
        checked = validate(
            mapping.entity,
            records,
            service_id=service_id,
            pseudonymise=Pseudonymiser(secrets.token_bytes(32)),  # a throwaway key: nothing is kept
            loaded_at=dt.datetime.now(),
            files=spans,
        )
        rejected += [(int(r), reason) for r, reason in zip(checked.rejected_rows, checked.reasons, strict=True)]
        report.rows_loadable = len(checked.good)
        column = mapping.entity.period_column
        if column and len(checked.good):
            months = pd.to_datetime(checked.good[column]).dt.strftime("%Y-%m")
            report.months = {str(k): int(v) for k, v in months.value_counts().items()}
    report.rows_quarantined = len(rejected)
    rejected.sort()
    report.rejects = rejected[:SAMPLE_REJECTS]
    kinds = Counter(_reason_kind(part) for _, reason in rejected for part in reason.split("; "))
    report.reasons = kinds.most_common()
    return report
