"""A service's readiness to report: which sources it has delivered, which reference data and input
columns it lacks, and so which KPIs it will not have and why (the catalogue's ``requires`` column).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.settings import REPO_ROOT, Settings

CATALOGUE = REPO_ROOT / "seeds" / "kpi_catalogue.csv"
# Reference data a service provides beside its extracts; wards carry the rate denominators.
REFERENCE = (
    ("reference.stations", "stations (station-level reporting)"),
    ("reference.wards", "wards with population, dwellings and non-domestic properties (rates)"),
    ("reference.appliances", "appliances"),
)


@dataclass(frozen=True)
class Input:
    """One ``system.entity[.column]`` item of ``requires``."""

    system: str
    entity: str
    column: str | None = None

    @property
    def table(self) -> str:
        return f"{self.system}__{self.entity}"

    @property
    def source(self) -> str:
        return f"{self.system}.{self.entity}"

    def __str__(self) -> str:
        return self.source + (f".{self.column}" if self.column else "")


def parse_requires(text: str) -> list[tuple[Input, ...]]:
    """``a;b|c`` -> [(a,), (b, c)]: every item is needed, any one alternative of an item will do."""
    items = []
    for item in (text or "").split(";"):
        alternatives = []
        for part in item.split("|"):
            bits = part.strip().split(".")
            if len(bits) not in (2, 3) or not all(bits):
                raise ValueError(f"requires item {part.strip()!r}: expected system.entity[.column]")
            alternatives.append(Input(*bits))
        items.append(tuple(alternatives))
    return items


def read_catalogue(path: Path = CATALOGUE) -> list[tuple[str, str]]:
    """(kpi_code, requires) per catalogue row, in display order."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: int(r["display_order"]))
    return [(r["kpi_code"], r["requires"]) for r in rows]


@dataclass(frozen=True)
class Delivery:
    source: str  # system.entity
    files: int
    rows: int
    last_period: str | None  # None for files that cover no single period (public multi-month extracts)


@dataclass
class Readiness:
    service_id: str
    deliveries: list[Delivery]
    not_delivered: list[str]  # system.entity the catalogue needs that has no rows for the service
    missing_reference: list[str]  # descriptions of REFERENCE items without rows
    unrecorded: list[str]  # system.entity.column: delivered, every value null
    columns_checked: bool  # False when raw_current was not readable (only the warehouse holds it)
    kpi_gaps: dict[str, list[str]] = field(default_factory=dict)  # kpi_code -> reasons


def _relation(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str | None:
    """The qualified name of ``schema.table`` in any attached database (the main one first)."""
    rows = con.execute(
        "select table_catalog from information_schema.tables where table_schema = ? and table_name = ? "
        "order by table_catalog <> current_database()",
        [schema, table],
    ).fetchall()
    return f'"{rows[0][0]}".{schema}.{table}' if rows else None


def _deliveries(con: duckdb.DuckDBPyConnection, service_id: str) -> list[Delivery]:
    """The current delivery of each month or snapshot (latest period, revision, batch), as
    raw_current picks them, with its ingestion-log line; empty withdrawals count no rows."""
    log = _relation(con, "audit", "ingestion_log")
    deliveries = _relation(con, "audit", "raw_deliveries")
    if log is None or deliveries is None:
        return []
    rows = con.execute(
        f"""
        with current_batches as (
            select raw_table, delivery_key,
                   arg_max(batch_id, (period, revision, batch_id)) as batch_id, max(nullif(period, '')) as period
            from {deliveries}
            where service_id = $service
            group by raw_table, delivery_key
        )
        select log.system || '.' || log.entity as source, count(*) as files, sum(log.rows_loaded) as rows,
               max(current_batches.period) filter (where log.rows_loaded > 0) as last_period
        from current_batches
        inner join {log} as log using (batch_id)
        group by all
        having sum(log.rows_loaded) > 0
        order by source
        """,
        {"service": service_id},
    ).fetchall()
    return [Delivery(source, int(files), int(n), last) for source, files, n, last in rows]


def _is_recorded(con: duckdb.DuckDBPyConnection, relation: str, column: str, service_id: str) -> bool:
    columns = {r[0] for r in con.execute(f"select column_name from (describe {relation})").fetchall()}
    if column not in columns:
        return False
    sql = f'select count("{column}") from {relation} where service_id = ?'
    return bool(con.execute(sql, [service_id]).fetchall()[0][0])


def service_readiness(
    con: duckdb.DuckDBPyConnection, service_id: str, catalogue: Iterable[tuple[str, str]]
) -> Readiness:
    """What ``service_id`` has delivered and lacks, read from the audit tables (``ingestion_log``,
    ``raw_deliveries``) and, where present, ``raw_current``; ``catalogue`` is (kpi_code, requires)."""
    catalogue = [(code, parse_requires(text)) for code, text in catalogue]
    deliveries = _deliveries(con, service_id)
    delivered = {d.source for d in deliveries}
    needed = sorted(
        {alt.source for _, items in catalogue for item in items for alt in item} | {r for r, _ in REFERENCE}
    )
    columns = sorted(
        {(alt.source, alt.table, alt.column) for _, items in catalogue for item in items for alt in item if alt.column}
    )
    unrecorded: set[str] = set()
    checked = True
    for source, table, column in columns:
        if source not in delivered:
            continue
        relation = _relation(con, "raw_current", table)
        if relation is None:
            checked = False
            continue
        if not _is_recorded(con, relation, column, service_id):
            unrecorded.add(f"{source}.{column}")

    def missing(alt: Input) -> str | None:
        if alt.source not in delivered:
            return f"{alt.source} not delivered"
        if alt.column and str(alt) in unrecorded:
            return f"{alt} not recorded"
        return None

    gaps: dict[str, list[str]] = {}
    for code, items in catalogue:
        reasons = []
        for item in items:
            why = [missing(alt) for alt in item]
            if all(why):
                reasons.append(" and ".join(w for w in why if w))
        if reasons:
            gaps[code] = reasons
    return Readiness(
        service_id=service_id,
        deliveries=deliveries,
        not_delivered=[s for s in needed if s not in delivered and not s.startswith("reference.")],
        missing_reference=[label for source, label in REFERENCE if source not in delivered],
        unrecorded=sorted(unrecorded),
        columns_checked=checked,
        kpi_gaps=gaps,
    )


def format_readiness(r: Readiness, opened: str) -> str:
    lines = [f"Service {r.service_id} (read from {opened})", "", "Delivered:"]
    if r.deliveries:
        lines.append(f"  {'source':<40}{'files':>7}{'rows':>11}  last period")
        lines += [f"  {d.source:<40}{d.files:>7}{d.rows:>11}  {d.last_period or '-'}" for d in r.deliveries]
    else:
        lines.append("  nothing: no delivery with rows for this service")
    lines += ["", "Not delivered (sources the KPIs need):"]
    lines += [f"  {s}" for s in r.not_delivered] or ["  none"]
    lines += ["", "Reference data missing:"]
    lines += [f"  {s}" for s in r.missing_reference] or ["  none"]
    lines += ["", "Input columns not recorded (every value null for this service):"]
    if not r.columns_checked:
        lines.append("  not fully checked: raw_current is only in the warehouse, which could not be read")
    lines += [f"  {c}" for c in r.unrecorded] or (["  none"] if r.columns_checked else [])
    lines += ["", "KPIs it will lack:"]
    lines += [f"  {code}: {'; '.join(reasons)}" for code, reasons in r.kpi_gaps.items()] or ["  none"]
    return "\n".join(lines)


class StatusUnavailable(Exception):
    """Neither serving.duckdb nor warehouse.duckdb can be read."""


@contextlib.contextmanager
def open_readonly(settings: Settings) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """serving.duckdb read-only, with the warehouse attached read-only when it can be (it alone
    holds raw_current); else the warehouse alone. Yields the connection and what it opened."""
    serving, warehouse = settings.serving_path, settings.warehouse_path
    if not serving.exists() and not warehouse.exists():
        raise StatusUnavailable(
            f"no warehouse yet: neither {serving} nor {warehouse} exists (run `make pipeline` first, "
            "or set GT_DATA_DIR to the data folder)"
        )
    try:
        con = duckdb.connect(str(serving if serving.exists() else warehouse), read_only=True)
    except duckdb.Error as exc:
        raise StatusUnavailable(f"cannot open {serving if serving.exists() else warehouse} read-only: {exc}") from exc
    opened = serving.name if serving.exists() else warehouse.name
    try:
        if serving.exists() and warehouse.exists():
            with contextlib.suppress(duckdb.Error):  # a pipeline run holds it: columns go unchecked
                con.execute(f"attach '{warehouse}' as warehouse (read_only)")
                opened += f" and {warehouse.name}"
        yield con, opened
    finally:
        con.close()


def print_status(settings: Settings, service_id: str, catalogue_path: Path = CATALOGUE) -> int:
    try:
        with open_readonly(settings) as (con, opened):
            known = _relation(con, "audit", "ingestion_log")
            if known is None:
                print(f"error: {opened} has no audit.ingestion_log: nothing has been ingested yet")
                return 2
            readiness = service_readiness(con, service_id, read_catalogue(catalogue_path))
    except StatusUnavailable as exc:
        print(f"error: {exc}")
        return 2
    print(format_readiness(readiness, opened))
    return 0
