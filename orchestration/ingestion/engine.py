"""Load landed files into ``raw.<system>__<entity>``: schema check, validation, quarantine,
lineage columns, the ingestion log, idempotency by file hash and supersession of re-deliveries.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.ingestion.contracts import ENTITIES, Entity, entities_for
from orchestration.ingestion.readers import (
    ROW_COLUMN,
    ReadResult,
    SchemaError,
    parse_file_name,
    read_entity_file,
)
from orchestration.ingestion.validate import Pseudonymiser, stored_name, validate
from orchestration.warehouse import ensure_audit_schema, scalar

DUCKDB_TYPES = {
    "str": "varchar",
    "int": "bigint",
    "float": "double",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
}
LINEAGE_DDL = (
    ("service_id", "varchar"),
    ("_source_file", "varchar"),
    ("_source_row", "bigint"),
    ("_file_sha256", "varchar"),
    ("_batch_id", "bigint"),
    ("_loaded_at", "timestamp"),
    ("_delivery_key", "varchar"),
    ("_period", "varchar"),
    ("_revision", "integer"),
)


class IngestionError(Exception):
    """One or more files were rejected; the message lists each with its reason."""


@dataclass
class FileOutcome:
    raw_table: str
    file_name: str
    status: str  # loaded | rejected | skipped
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]

    def totals(self) -> dict[str, int]:
        done = [o for o in self.outcomes if o.status != "skipped"]
        return {
            "files": len(done),
            "files_skipped": sum(o.status == "skipped" for o in self.outcomes),
            "rows_received": sum(o.rows_received for o in done),
            "rows_loaded": sum(o.rows_loaded for o in done),
            "rows_quarantined": sum(o.rows_quarantined for o in done),
            "files_rejected": len(self.failures),
        }

    def raise_for_failures(self) -> None:
        if self.failures:
            lines = [f"- {o.file_name}: {o.message}" for o in self.failures]
            raise IngestionError(f"{len(self.failures)} file(s) rejected:\n" + "\n".join(lines))


def load_pseudonymiser(secrets_dir: Path) -> Pseudonymiser:
    """The key is created under data/secrets on first run; it is never in the repository."""
    key_file = secrets_dir / "pseudonymisation.key"
    if not key_file.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return Pseudonymiser(bytes.fromhex(key_file.read_text().strip()))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def schema_difference(entity: Entity, found: Iterable[str]) -> str | None:
    """Describe missing, unexpected and probably-renamed columns; None when they match."""
    expected = [c.name for c in entity.columns]
    found = list(found)
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if not missing and not extra:
        return None
    # A rename usually keeps the column's place in the header; otherwise go by spelling.
    renamed: list[str] = []
    unpaired = list(extra)
    for position, name in enumerate(found):
        if name in unpaired and position < len(expected) and expected[position] in missing:
            renamed.append(f"{expected[position]} -> {name}")
            unpaired.remove(name)
    paired = {r.split(" -> ")[0] for r in renamed}
    for m in missing:
        match = difflib.get_close_matches(m, unpaired, n=1, cutoff=0.5) if m not in paired else []
        if match:
            renamed.append(f"{m} -> {match[0]}")
            unpaired.remove(match[0])
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if extra:
        parts.append("unexpected: " + ", ".join(extra))
    if renamed:
        parts.append("probably renamed: " + ", ".join(renamed))
    return f"columns do not match the {entity.table} contract ({'; '.join(parts)})"


def ensure_raw_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    cols = [f'"{stored_name(c)}" {DUCKDB_TYPES[c.type]}' for c in entity.loaded_columns]
    own = {stored_name(c) for c in entity.loaded_columns}
    # A source that carries its own service_id (the app store) keeps it; others get the folder's.
    cols += [f"{name} {kind}" for name, kind in LINEAGE_DDL if name not in own]
    con.execute(f"create table if not exists raw.{entity.table} ({', '.join(cols)})")
    # Current rows: the latest delivery of each month (monthly) or the latest extract
    # (snapshot); raw keeps every delivery for audit.
    con.execute(
        f"""
        create or replace view raw_current.{entity.table} as
        select * from raw.{entity.table}
        qualify dense_rank() over (
            partition by service_id, _delivery_key
            order by _period desc, _revision desc, _batch_id desc
        ) = 1
        """
    )


def all_entities() -> tuple[Entity, ...]:
    """Every raw table's contract: the source systems, the real public data and the app store."""
    from orchestration.ingestion.app_store import COMMENTARY_ENTITY
    from orchestration.ingestion.real_data import REAL_ENTITIES

    return (*ENTITIES, *REAL_ENTITIES, COMMENTARY_ENTITY)


def ensure_all_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table (empty where nothing has landed), so dbt's sources always exist."""
    ensure_audit_schema(con)
    for e in all_entities():
        ensure_raw_table(con, e)


def known_codes_for(con: duckdb.DuckDBPyConnection, entity: Entity, service_id: str) -> dict[tuple[str, str], set[str]]:
    codes: dict[tuple[str, str], set[str]] = {}
    for rule in entity.known_codes:
        table = f"reference__{rule.ref_entity}"
        exists = scalar(
            con,
            "select count(*) from information_schema.tables where table_schema = 'raw_current' and table_name = ?",
            [table],
        )
        if not exists:
            continue
        values = {
            r[0]
            for r in con.execute(
                f'select distinct "{rule.ref_column}" from raw_current.{table} where service_id = ?',
                [service_id],
            ).fetchall()
        }
        if values:
            codes[(rule.ref_entity, rule.ref_column)] = values
    return codes


def _previous(con: duckdb.DuckDBPyConnection, entity: Entity, sha: str) -> str | None:
    return scalar(
        con,
        "select status from audit.ingestion_log where raw_table = ? and file_sha256 = ? order by batch_id desc limit 1",
        [entity.table, sha],
    )


def _next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "select coalesce(max(batch_id), 0) + 1 from audit.ingestion_log"))


def _cross_file_duplicates(
    con: duckdb.DuckDBPyConnection, entity: Entity, good: pd.DataFrame, service_id: str, delivery_key: str
) -> pd.Series:
    """Keys already current in another delivery of the same service (e.g. another month)."""
    key_cols = [stored_name(entity.column(k)) for k in entity.key]
    if good.empty:
        return pd.Series([], dtype=object)
    con.register("_incoming_keys", good[key_cols + [ROW_COLUMN]])
    try:
        join = " and ".join(f'r."{k}" = i."{k}"' for k in key_cols)
        hits = con.execute(
            f"""
            select i.{ROW_COLUMN}, any_value(r._source_file) as other_file
            from _incoming_keys i join raw_current.{entity.table} r on {join}
            where r.service_id = ? and r._delivery_key <> ?
            group by i.{ROW_COLUMN}
            """,
            [service_id, delivery_key],
        ).df()
    finally:
        con.unregister("_incoming_keys")
    return pd.Series(hits["other_file"].to_numpy(), index=hits[ROW_COLUMN].to_numpy(), dtype=object)


def load_result(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    result: ReadResult | None,
    *,
    file_name: str,
    sha: str,
    file_bytes: int,
    service_id: str | None,
    delivery_key: str,
    period: str | None,
    revision: int,
    pseudonymise: Pseudonymiser,
    run_id: str,
    schema_error: str | None = None,
) -> FileOutcome:
    """Validate one file's rows and write them, its quarantine and its log row in one transaction."""
    started = dt.datetime.now()
    batch_id = _next_batch_id(con)
    ensure_raw_table(con, entity)
    status, message = "loaded", ""
    warnings = "; ".join(result.warnings) if result else ""
    quarantine: list[tuple[int | None, str, str]] = []
    good = pd.DataFrame()
    received = result.rows_received if result else 0

    if result is not None and schema_error is None:
        schema_error = schema_difference(entity, result.columns)
    if schema_error:
        # The whole file is refused; its rows go to quarantine so the count still reconciles.
        status, message = "rejected", schema_error
        if result is not None:
            quarantine += [(int(r), f"file rejected: {schema_error}", "") for r in result.records[ROW_COLUMN]]
            quarantine += [(m.row, f"file rejected: {schema_error}", "") for m in result.malformed]
    else:
        assert result is not None
        # A malformed row cannot be split into fields, so where the contract holds personal data
        # its text is withheld rather than risk a name reaching the warehouse.
        personal = any(c.personal or c.pseudonymise for c in entity.columns)
        quarantine += [
            (m.row, f"malformed row: {m.reason}", "[withheld: may hold personal data]" if personal else m.raw_text)
            for m in result.malformed
        ]
        checked = validate(
            entity,
            result.records,
            service_id=service_id or "",
            pseudonymise=pseudonymise,
            loaded_at=started,
            period=period,
            known_codes=known_codes_for(con, entity, service_id or ""),
        )
        quarantine += [
            (int(r), reason, text)
            for r, reason, text in zip(checked.rejected_rows, checked.reasons, checked.raw_texts, strict=True)
        ]
        good = checked.good
        dups = _cross_file_duplicates(con, entity, good, service_id or "", delivery_key)
        if len(dups):
            is_dup = good[ROW_COLUMN].isin(dups.index)
            key_cols = [stored_name(entity.column(k)) for k in entity.key]
            for _, row in good.loc[is_dup].iterrows():
                key = "|".join(str(row[k]) for k in key_cols)
                quarantine.append(
                    (int(row[ROW_COLUMN]), f"duplicate key {key} already loaded from {dups[row[ROW_COLUMN]]}", "")
                )
            good = good.loc[~is_dup]

    loaded = len(good)
    if received != loaded + len(quarantine):
        raise AssertionError(
            f"{file_name}: reconciliation failed: received {received}, loaded {loaded}, quarantined {len(quarantine)}"
        )
    finished = dt.datetime.now()
    con.execute("begin transaction")
    try:
        if loaded:
            frame = good.copy()
            if service_id is not None or "service_id" not in frame.columns:
                frame["service_id"] = service_id
            frame["_source_file"] = file_name
            frame["_file_sha256"] = sha
            frame["_batch_id"] = batch_id
            frame["_loaded_at"] = started
            frame["_delivery_key"] = delivery_key
            frame["_period"] = period or ""
            frame["_revision"] = revision
            con.register("_incoming", frame)
            con.execute(f"insert into raw.{entity.table} by name select * from _incoming")
            con.unregister("_incoming")
        if quarantine:
            q = pd.DataFrame(quarantine, columns=["row_number", "reason", "raw_text"])
            q["batch_id"], q["system"], q["entity"] = batch_id, entity.system, entity.entity
            q["service_id"], q["file_name"], q["quarantined_at"] = service_id, file_name, finished
            con.register("_quarantine", q)
            con.execute("insert into audit.quarantine by name select * from _quarantine")
            con.unregister("_quarantine")
        con.execute(
            "insert into audit.ingestion_log values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                batch_id,
                run_id,
                entity.system,
                entity.entity,
                entity.table,
                service_id,
                file_name,
                sha,
                file_bytes,
                result.encoding if result else None,
                period,
                revision,
                received,
                loaded,
                len(quarantine),
                status,
                message,
                warnings,
                started,
                finished,
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return FileOutcome(entity.table, file_name, status, received, loaded, len(quarantine), message)


def landed_files(landing_dir: Path, entity: Entity) -> list[tuple[Path, str, str, int]]:
    """(path, service_id, period, revision) in load order: service, period, revision."""
    found = []
    base = landing_dir / entity.system
    if not base.is_dir():
        return []
    for service_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for path in service_dir.iterdir():
            parsed = parse_file_name(entity, path.name)
            if parsed:
                found.append((path, service_dir.name, parsed[0], parsed[1]))
    return sorted(found, key=lambda f: (f[1], f[2], f[3], f[0].name))


def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    landing_dir: Path,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
) -> IngestReport:
    """Load every new landed file for ``entity``; files already loaded (same hash) are skipped."""
    ensure_audit_schema(con)
    ensure_raw_table(con, entity)
    run_id = run_id or uuid.uuid4().hex
    report = IngestReport()
    for path, service_id, period, revision in landed_files(landing_dir, entity):
        rel = path.relative_to(landing_dir).as_posix()
        sha = sha256_file(path)
        previous = _previous(con, entity, sha)
        if previous == "loaded":
            report.outcomes.append(FileOutcome(entity.table, rel, "skipped"))
            continue
        delivery_key = entity.stem if entity.delivery == "snapshot" else f"{entity.stem}_{period}"
        try:
            result, error = read_entity_file(entity, path), None
        except SchemaError as exc:
            result, error = None, str(exc)
        if error is None and result is not None:
            error = schema_difference(entity, result.columns)
        if previous == "rejected" and error:
            # Logged and quarantined once already: keep failing, without a second log row,
            # until the file (or the contract) is fixed; then it loads like a new file.
            report.outcomes.append(FileOutcome(entity.table, rel, "rejected", message=f"{error} (rejected earlier)"))
            continue
        outcome = load_result(
            con,
            entity,
            result,
            file_name=rel,
            sha=sha,
            file_bytes=path.stat().st_size,
            service_id=service_id,
            delivery_key=delivery_key,
            period=period,
            revision=revision,
            pseudonymise=pseudonymise,
            run_id=run_id,
            schema_error=error,
        )
        report.outcomes.append(outcome)
    return report


def ingest_system(
    con: duckdb.DuckDBPyConnection,
    system: str,
    landing_dir: Path,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
) -> IngestReport:
    report = IngestReport()
    for entity in entities_for(system):
        report.outcomes += ingest_entity(con, entity, landing_dir, pseudonymise, run_id).outcomes
    return report


def ingest_real_data(
    con: duckdb.DuckDBPyConnection,
    real_dir: Path | None,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
) -> IngestReport:
    """Load the real public data (LFB, Home Office, ONS) through the same checks and log.

    The raw tables are created even when the folder is absent so that the warehouse build
    works on a newcomer's machine with demo data only.
    """
    from orchestration.ingestion.real_data import REAL_SOURCES

    ensure_all_raw_tables(con)
    report = IngestReport()
    if real_dir is None:
        return report
    run_id = run_id or uuid.uuid4().hex
    for source in REAL_SOURCES:
        path = real_dir / source.path
        label = f"real/{source.path}"
        sha = sha256_file(path)
        if _previous(con, source.entity, sha) == "loaded":
            report.outcomes.append(FileOutcome(source.table, label, "skipped"))
            continue
        try:
            result, error = source.adapter(path), None
        except SchemaError as exc:
            result, error = None, str(exc)
        report.outcomes.append(
            load_result(
                con,
                source.entity,
                result,
                file_name=label,
                sha=sha,
                file_bytes=path.stat().st_size,
                service_id=source.service_id,
                delivery_key=source.path,
                period=None,
                revision=1,
                pseudonymise=pseudonymise,
                run_id=run_id,
                schema_error=error,
            )
        )
    return report


def ingest_app_store(
    con: duckdb.DuckDBPyConnection,
    app_store_dir: Path,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
) -> IngestReport:
    """Load the app's commentary store (append-only SQLite) as a snapshot source.

    Unchanged since the last load (same content hash) means nothing to do.
    """
    from orchestration.ingestion.app_store import COMMENTARY_ENTITY, commentary_path, commentary_read_result

    ensure_audit_schema(con)
    ensure_raw_table(con, COMMENTARY_ENTITY)
    report = IngestReport()
    path = commentary_path(app_store_dir)
    if not path.exists():
        return report
    result = commentary_read_result(path)
    # Hash the rows, not the SQLite file, whose bytes change without any new commentary.
    sha = hashlib.sha256(result.records.to_csv(index=False).encode()).hexdigest()
    label = "app_store/commentary.sqlite"
    if _previous(con, COMMENTARY_ENTITY, sha) == "loaded":
        report.outcomes.append(FileOutcome(COMMENTARY_ENTITY.table, label, "skipped"))
        return report
    report.outcomes.append(
        load_result(
            con,
            COMMENTARY_ENTITY,
            result,
            file_name=label,
            sha=sha,
            file_bytes=path.stat().st_size,
            service_id=None,
            delivery_key="commentary",
            period=dt.date.today().isoformat(),
            revision=1,
            pseudonymise=pseudonymise,
            run_id=run_id or uuid.uuid4().hex,
        )
    )
    return report


__all__ = [
    "ingest_app_store",
    "ingest_real_data",
    "ENTITIES",
    "FileOutcome",
    "IngestReport",
    "IngestionError",
    "ingest_entity",
    "ingest_system",
    "load_pseudonymiser",
    "load_result",
    "landed_files",
    "schema_difference",
    "sha256_file",
]
