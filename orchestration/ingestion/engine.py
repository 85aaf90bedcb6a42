"""Load landed files into ``raw.<system>__<entity>``: schema check, validation, quarantine,
lineage columns, the ingestion log, idempotency by file path and hash, copies, and supersession
of re-deliveries.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import hashlib
import os
import re
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.ingestion import native
from orchestration.ingestion.contracts import ENTITIES, Entity, entities_for
from orchestration.ingestion.mapping import (
    Mapping,
    apply_mapping,
    expected_names,
    load_mappings,
    mapped_file_period,
)
from orchestration.ingestion.readers import (
    ROW_COLUMN,
    LandedRead,
    ReadResult,
    SchemaError,
    parse_file_name,
    parse_native,
    read_file,
    read_landed,
    shared_workbooks,
)
from orchestration.ingestion.validate import (
    FileInfo,
    Pseudonymiser,
    check,
    create_input,
    drop_input,
    put_rows,
    stored_name,
)
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


Mappings = dict[tuple[str, str], Mapping]  # (service, raw table) -> that service's mapping


class IngestionError(Exception):
    """One or more files were refused; the message lists each with its reason."""


@dataclass
class FileOutcome:
    raw_table: str
    file_name: str
    status: str  # loaded | held | refused | skipped
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "refused"]

    @property
    def held(self) -> list[FileOutcome]:
        """Re-deliveries held for a person to accept (``deliveries accept``); not failures."""
        return [o for o in self.outcomes if o.status == "held"]

    def totals(self) -> dict[str, int]:
        done = [o for o in self.outcomes if o.status != "skipped"]
        return {
            "files": len(done),
            "files_skipped": sum(o.status == "skipped" for o in self.outcomes),
            "rows_received": sum(o.rows_received for o in done),
            "rows_loaded": sum(o.rows_loaded for o in done),
            "rows_quarantined": sum(o.rows_quarantined for o in done),
            "files_refused": len(self.failures),
            "files_held": len(self.held),
        }

    def raise_for_failures(self) -> None:
        if self.failures:
            lines = [f"- {o.file_name}: {o.message}" for o in self.failures]
            raise IngestionError(f"{len(self.failures)} file(s) refused:\n" + "\n".join(lines))


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


# How alike a missing and an unexpected column name must be (difflib's ratio, ignoring case, spaces,
# underscores and hyphens) for the message to suggest one was renamed to the other. 0.6 is difflib's
# own cut-off for close matches: ``ward`` for ``ward_code`` (0.67) is suggested, ``risk_level`` for
# ``household_risk`` (0.36) is not.
RENAME_LIKENESS = 0.6


def _comparable(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _shown(name: str) -> str:
    if not name:
        return "(a column with no name)"
    return name if name.isprintable() and name == name.strip() else repr(name)


def schema_difference(entity: Entity, found: Iterable[str]) -> str | None:
    """Describe missing, unexpected, duplicated and probably-renamed columns; None when they match.

    A rename is suggested only between names that are alike (``RENAME_LIKENESS``), best pairs
    first, never by position: a column dropped beside one added is not a rename.
    """
    expected = [c.name for c in entity.columns]
    counts = Counter(found)
    missing = [c for c in expected if c not in counts]
    extra = [c for c in counts if c not in expected]
    duplicated = [c for c, n in counts.items() if n > 1]
    if not missing and not extra and not duplicated:
        return None
    scored = sorted(
        (
            (-difflib.SequenceMatcher(None, _comparable(m), _comparable(x)).ratio(), i, j)
            for i, m in enumerate(missing)
            for j, x in enumerate(extra)
        )
    )
    renamed: dict[int, int] = {}
    for score, i, j in scored:
        if -score < RENAME_LIKENESS:
            break
        if i not in renamed and j not in renamed.values():
            renamed[i] = j
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if extra:
        parts.append("unexpected: " + ", ".join(_shown(x) for x in extra))
    if duplicated:
        parts.append("more than once: " + ", ".join(_shown(x) for x in duplicated))
    if renamed:
        parts.append(
            "probably renamed: " + ", ".join(f"{missing[i]} -> {_shown(extra[j])}" for i, j in sorted(renamed.items()))
        )
    return f"columns do not match the {entity.table} contract ({'; '.join(parts)})"


def delivery_key(entity: Entity, period: str) -> str:
    """Which deliveries of a landed extract replace each other: every extract of a snapshot, or
    every revision of one month (or financial year). ``_empty_deliveries_sql`` says it in SQL."""
    return entity.stem if entity.delivery == "snapshot" else f"{entity.stem}_{period}"


def _empty_deliveries_sql(entity: Entity) -> str:
    """Landed extracts that held no rows (header only), from the ingestion log, with the lineage
    columns that rank deliveries.

    An empty delivery has no rows in raw to say it is current, yet it is the source's word that a
    month (say, a ``_r2`` revision withdrawing it) or a snapshot now holds nothing. The real public
    data and the app store are not included: an empty file there is a broken download, not news.
    """
    key = f"'{entity.stem}'" if entity.delivery == "snapshot" else f"'{entity.stem}_' || period"
    return f"""
        select service_id, {key} as _delivery_key, coalesce(period, '') as _period,
            revision as _revision, batch_id as _batch_id, file_name as _source_file
        from audit.ingestion_log
        where raw_table = '{entity.table}' and rows_received = 0
            and starts_with(file_name, '{entity.system}/')
            and (status = 'loaded' or batch_id in (
                select batch_id from audit.delivery_decisions where decision = 'accepted'))
    """


def record_deliveries(con: duckdb.DuckDBPyConnection, table: str, rows: str, held_batches: Iterable[int] = ()) -> None:
    """Note in ``audit.raw_deliveries`` the deliveries whose rows ``rows`` (a relation with raw's
    lineage columns) are being written to ``raw.<table>``; call it with the insert, in the same
    transaction. Held deliveries (``held_batches``) have their rows in raw but are not listed: they
    are not current until a person accepts them (``deliveries.accept``)."""
    con.execute(
        f"""
        insert into audit.raw_deliveries
        select distinct '{table}', service_id, _delivery_key, _period, _revision, _batch_id, true
        from {rows}
        where not list_contains(?::bigint[], _batch_id)
        """,
        [list(held_batches)],
    )


def _record_empty_deliveries(con: duckdb.DuckDBPyConnection, entity: Entity, batch_ids: list[int] | None) -> None:
    """Note the empty deliveries among ``batch_ids`` (all, if None), once their log rows are written."""
    con.execute(
        f"""
        insert into audit.raw_deliveries
        select '{entity.table}', service_id, _delivery_key, _period, _revision, _batch_id, false
        from ({_empty_deliveries_sql(entity)})
        where ?::bigint[] is null or list_contains(?::bigint[], _batch_id)
        """,
        [batch_ids, batch_ids],
    )


# Batches held and never accepted (``deliveries accept`` lists an accepted one itself).
HELD_BATCHES_SQL = """
    select batch_id from audit.ingestion_log
    where raw_table = ? and status = 'held'
        and batch_id not in (select batch_id from audit.delivery_decisions where decision = 'accepted')
"""


def _backfill_deliveries(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """A warehouse loaded before ``audit.raw_deliveries`` existed: list its deliveries once, from
    raw and the ingestion log."""
    if scalar(con, "select count(*) from audit.raw_deliveries where raw_table = ?", [entity.table]):
        return
    if not scalar(con, "select count(*) from audit.ingestion_log where raw_table = ?", [entity.table]):
        return
    con.execute("begin transaction")
    try:
        held = [b for (b,) in con.execute(HELD_BATCHES_SQL, [entity.table]).fetchall()]
        record_deliveries(con, entity.table, f"raw.{entity.table}", held)
        _record_empty_deliveries(con, entity, None)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _add_new_contract_columns(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """A column the contract gained after the raw table was made (a new optional column, such as a
    ward's successor) is added, null for the rows loaded before it: staging reads every contract
    column, and files already loaded are not read again just to fill it."""
    present = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [entity.table],
        ).fetchall()
    }
    for column in entity.loaded_columns:
        name = stored_name(column)
        if name not in present:
            con.execute(f'alter table raw.{entity.table} add column "{name}" {DUCKDB_TYPES[column.type]}')


def ensure_raw_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    ensure_audit_schema(con)  # raw_current reads the delivery list
    cols = [f'"{stored_name(c)}" {DUCKDB_TYPES[c.type]}' for c in entity.loaded_columns]
    own = {stored_name(c) for c in entity.loaded_columns}
    # A source that carries its own service_id (the app store) keeps it; others get the folder's.
    cols += [f"{name} {kind}" for name, kind in LINEAGE_DDL if name not in own]
    con.execute(f"create table if not exists raw.{entity.table} ({', '.join(cols)})")
    _add_new_contract_columns(con, entity)
    _backfill_deliveries(con, entity)
    # Current rows: the latest delivery of each month (monthly) or the latest extract
    # (snapshot), unless a later delivery of it was empty; raw keeps every delivery for audit.
    # The current deliveries come from ``audit.current_deliveries`` (a few thousand rows) and raw
    # is filtered by batch id alone: ranking raw's rows sorted every column of every row on each
    # read (10 s for national mobilisations), and grouping raw's lineage columns to find the
    # deliveries, then semi-joining on three of them, still took 1 s per read of a staging view.
    # A batch is one file of one service, except where rows carry their own service_id, so
    # there the service must match too.
    current = f"""
        select service_id, batch_id from audit.current_deliveries
        where raw_table = '{entity.table}' and has_rows
    """
    if "service_id" in own:
        rows = f"""
        select * from raw.{entity.table} as raw_rows
        semi join ({current}) as current
            on raw_rows.service_id is not distinct from current.service_id
            and raw_rows._batch_id = current.batch_id
        """
    else:
        rows = f"select * from raw.{entity.table}"
    con.execute(
        f"""
        create or replace view raw_current.{entity.table} as
        {rows}
        where _batch_id in (select batch_id from ({current}))
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


def known_codes_for(
    con: duckdb.DuckDBPyConnection, entity: Entity, service_ids: Iterable[str]
) -> dict[str, dict[tuple[str, str], set[str]]]:
    """Per service: (ref_entity, ref_column) -> the codes current for it; a service with no
    reference rows for a rule has no entry for it (the rule is then skipped)."""
    services = sorted(set(service_ids))
    codes: dict[str, dict[tuple[str, str], set[str]]] = {s: {} for s in services}
    for rule in entity.known_codes:
        table = f"reference__{rule.ref_entity}"
        exists = scalar(
            con,
            "select count(*) from information_schema.tables where table_schema = 'raw_current' and table_name = ?",
            [table],
        )
        if not exists or not services:
            continue
        for service_id, value in con.execute(
            f'select distinct service_id, "{rule.ref_column}" from raw_current.{table} '
            "where list_contains(?::varchar[], service_id)",
            [services],
        ).fetchall():
            codes[service_id].setdefault((rule.ref_entity, rule.ref_column), set()).add(value)
    return codes


def _next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "select coalesce(max(batch_id), 0) + 1 from audit.ingestion_log"))


# audit.ingestion_log's columns, for writing a batch's log rows in one statement.
_LOG_SCHEMA = pa.schema(
    [
        ("batch_id", pa.int64()),
        ("run_id", pa.string()),
        ("system", pa.string()),
        ("entity", pa.string()),
        ("raw_table", pa.string()),
        ("service_id", pa.string()),
        ("file_name", pa.string()),
        ("file_sha256", pa.string()),
        ("file_bytes", pa.int64()),
        ("file_mtime_ns", pa.int64()),
        ("encoding", pa.string()),
        ("period", pa.string()),
        ("revision", pa.int32()),
        ("rows_received", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("status", pa.string()),
        ("message", pa.string()),
        ("warnings", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
    ]
)


@dataclass
class _Delivery:
    """One landed file, read and schema-checked, waiting to be loaded with its neighbours."""

    file_name: str
    sha: str
    file_bytes: int
    service_id: str | None
    delivery_key: str
    period: str | None
    revision: int
    result: ReadResult | None
    schema_error: str | None
    batch_id: int = 0
    mtime_ns: int | None = None  # the file's modification time when read (None: not a landed file)
    copy_reason: str | None = None  # set when its bytes are a copy of a file already loaded
    notes: list[str] = field(default_factory=list)  # warnings for the log beside the reader's

    @property
    def rank(self) -> tuple[str, int, int]:
        """Which delivery of a month (or snapshot) is current: as ``raw_current`` orders them."""
        return (self.period or "", self.revision, self.batch_id)


@dataclass
class _LoadedFile:
    """A delivery whose rows are in raw, as the check for copies needs it."""

    batch_id: int
    file_name: str
    service_id: str | None
    delivery_key: str | None = None  # looked up in raw when first needed


# Log statuses of a file that need not be loaded again while its bytes stay the same: a held file's
# rows are in raw already, waiting for a person's decision.
SETTLED = frozenset({"loaded", "held"})


class _FileHistory:
    """What the ingestion log knows of one raw table's files, by path and by content.

    A file is known by its path (relative to the landing root; ``real/...`` for the real data)
    and its content by its hash. The same path with the same hash was seen before (a re-run);
    the same hash at another path is a delivery of its own, which may be a copy of a file whose
    rows are already loaded.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
        self.con, self.entity = con, entity
        # path -> (hash, status, batch id, bytes, modification time) of its latest log row
        self.latest: dict[str, tuple[str, str, int, int | None, int | None]] = {
            name: tuple(logged)
            for name, *logged in con.execute(
                "select file_name, arg_max(file_sha256, batch_id), arg_max(status, batch_id), max(batch_id), "
                "arg_max(file_bytes, batch_id), arg_max(file_mtime_ns, batch_id) "
                "from audit.ingestion_log where raw_table = ? group by 1",
                [entity.table],
            ).fetchall()
        }
        self._verified: list[tuple[int, int]] = []  # (mtime, batch id) to record in the log
        self.loaded: dict[str, list[_LoadedFile]] = {}
        for sha, batch_id, name, service_id in con.execute(
            "select file_sha256, batch_id, file_name, service_id from audit.ingestion_log "
            "where raw_table = ? and status = 'loaded' and rows_loaded > 0 order by batch_id",
            [entity.table],
        ).fetchall():
            self.loaded.setdefault(sha, []).append(_LoadedFile(batch_id, name, service_id))

    def before(self, file_name: str) -> tuple[str, str, int] | None:
        """(hash, status, batch id) last logged for this path, if any."""
        logged = self.latest.get(file_name)
        return None if logged is None else logged[:3]

    def unchanged(self, file_name: str, size: int, mtime_ns: int) -> bool:
        """The path was last loaded with this size and modification time: the file has not been
        written since, so its bytes need not be read and hashed again (as ``make`` and git's index
        judge files). A file whose time was never recorded is hashed, as before."""
        logged = self.latest.get(file_name)
        return logged is not None and logged[1] in SETTLED and logged[3:] == (size, mtime_ns)

    def verified(self, file_name: str, size: int, mtime_ns: int | None) -> None:
        """The file was read and hashed and holds the bytes last loaded from its path: note its
        time (one written to a log from before times were recorded, or touched since), so the
        next run can skip it by size and time."""
        sha, status, batch_id, *stat = self.latest[file_name]
        if mtime_ns is not None and stat != [size, mtime_ns]:
            self.latest[file_name] = (sha, status, batch_id, size, mtime_ns)
            self._verified.append((mtime_ns, batch_id))

    def save_verified(self) -> None:
        if self._verified:
            times = pa.table(
                {"file_mtime_ns": [t for t, _ in self._verified], "batch_id": [b for _, b in self._verified]}
            )
            self.con.register("_verified_times", times)
            try:
                self.con.execute(
                    "update audit.ingestion_log as log set file_mtime_ns = v.file_mtime_ns "
                    "from _verified_times as v where log.batch_id = v.batch_id"
                )
            finally:
                self.con.unregister("_verified_times")
            self._verified.clear()

    def copy_of(self, d: _Delivery) -> _LoadedFile | None:
        """The first file whose rows were loaded from the same bytes as ``d``, if ``d`` is a copy.

        Not a copy: a delivery of the same month (or snapshot) of the same service repeating an
        earlier one, e.g. a snapshot that did not change or a revision restoring the first
        delivery. It supersedes like any re-delivery, and the duplicate-key check judges its rows.
        """
        earlier = self.loaded.get(d.sha, [])
        for f in earlier:
            if f.file_name == d.file_name or (f.service_id == d.service_id and self._delivery_key(f) == d.delivery_key):
                return None
        return earlier[0] if earlier else None

    def _delivery_key(self, f: _LoadedFile) -> str | None:
        if f.delivery_key is None:
            f.delivery_key = scalar(
                self.con,
                "select any_value(delivery_key) from audit.raw_deliveries where raw_table = ? and batch_id = ?",
                [self.entity.table, f.batch_id],
            )
        return f.delivery_key

    def record(self, d: _Delivery, outcome: FileOutcome) -> None:
        self.latest[d.file_name] = (d.sha, outcome.status, d.batch_id, d.file_bytes, d.mtime_ns)
        if outcome.status == "loaded" and outcome.rows_loaded:
            self.loaded.setdefault(d.sha, []).append(_LoadedFile(d.batch_id, d.file_name, d.service_id, d.delivery_key))

    def check(self, d: _Delivery) -> None:
        """Note on ``d`` what its path and bytes were before: a changed file, or a copy.

        A path whose bytes changed is loaded as a new delivery of its month, superseding what
        was loaded from it (landed files should never change, so the log row says so). A file
        with data rows identical to one already loaded elsewhere (copied into the wrong
        service's folder, or under another month's name) has its rows quarantined, naming that
        file, rather than loaded twice or skipped unseen. This is the duplicate-key check's rule
        (``_cross_file_duplicates``: a delivery may restate its own month's keys, not another's)
        for whole files, and it also sees across services, which that check cannot. A
        header-only file is never a copy: it is its own delivery, and withdraws a month when it
        is a revision.
        """
        before = self.before(d.file_name)
        if before is not None and before[0] != d.sha:
            d.notes.append(f"file changed since it was {before[1]} in batch {before[2]}")
        if d.schema_error or d.result is None or d.result.rows_received == 0:
            return
        original = self.copy_of(d)
        if original is not None:
            d.copy_reason = f"file identical to {original.file_name} already loaded (batch {original.batch_id})"


# Asked for a delivery (its position in the batch) that would supersede a current one: its rows
# loaded, and the current delivery's (rank, file, rows loaded); True when it is held instead.
HoldRule = Callable[[int, int, tuple[tuple[str, int, int], str, int]], bool]


def hold_reason(
    entity: Entity,
    *,
    received: int,
    loaded: int,
    previous_rows: int,
    previous_file: str,
    previous_batch: int,
    delivery_key: str,
    file_name: str,
) -> str | None:
    """Why a re-delivery is held instead of replacing the current delivery of its month (or
    snapshot), or None. A current delivery with no rows is not at risk: a re-delivery of it loads."""
    if previous_rows <= 0:
        return None
    quarantined = received - loaded
    change = 100.0 * (loaded - previous_rows) / previous_rows
    shrink = -change
    lost = 100.0 * quarantined / received if received else 0.0
    if shrink <= entity.hold_shrink_pct and lost <= entity.hold_quarantine_pct:
        return None
    why = (
        f"{loaded:,} rows would replace {previous_rows:,} ({change:+.0f} %) of {delivery_key} "
        f"(batch {previous_batch}, {previous_file})"
    )
    if lost > entity.hold_quarantine_pct:
        limit = entity.hold_quarantine_pct
        why += f"; {quarantined:,} of {received:,} rows quarantined ({lost:.0f} %, more than {limit:g} %)"
    return (
        f"held: {why}; accept with: python -m orchestration.cli deliveries accept {file_name} --by NAME --reason TEXT"
    )


def _cross_file_duplicates(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    good: pd.DataFrame,
    good_files: np.ndarray,
    deliveries: list[_Delivery],
    hold: HoldRule | None = None,
) -> dict[int, str]:
    """Good rows whose key is already current in another delivery of the same service.

    Returns {position in ``good``: the file it was already loaded from}. The deliveries are
    judged in load order as if each were committed before the next is checked: a row counts
    against a delivery that is current at that moment (``raw_current``'s rule: latest period,
    then revision, then batch), whether that delivery was loaded earlier or earlier in this
    batch, and a batch's delivery that loads rows (or holds none) can supersede one before it.
    Services are independent: a delivery is known by (service, delivery key), a key by
    (service, key).

    ``hold`` is asked, for each delivery that would supersede a current one, whether it is held
    instead (``hold_reason``); a held delivery does not supersede, so later deliveries in the batch
    are judged against the delivery that stays current.
    """
    key_cols = [stored_name(entity.column(k)) for k in entity.key]
    delivery_service = [d.service_id or "" for d in deliveries]
    row_service = np.asarray(delivery_service, dtype=object)[good_files]

    # Deliveries already in the warehouse: which of each month's is current, and their rows
    # that share a key with an incoming row.
    current: dict[tuple[str, str], tuple[tuple[str, int, int], str, int]] = {}  # rank, file, rows loaded
    for service_id, dkey, period, revision, batch_id, source, rows in con.execute(
        "select d.service_id, d.delivery_key, d.period, d.revision, d.batch_id, log.file_name, log.rows_loaded "
        "from audit.raw_deliveries as d join audit.ingestion_log as log using (batch_id) "
        "where d.raw_table = ? and list_contains(?::varchar[], d.service_id)",
        [entity.table, sorted(set(delivery_service))],
    ).fetchall():
        rank = (period or "", revision or 0, batch_id)
        if (service_id, dkey) not in current or rank > current[(service_id, dkey)][0]:
            current[(service_id, dkey)] = (rank, source, rows)
    stored: dict[int, list[tuple[str, tuple[str, int, int], str]]] = {}
    if current and len(good):
        incoming = good[key_cols].copy()
        incoming["_service"] = row_service
        incoming["_pos"] = np.arange(len(good))
        con.register("_incoming_keys", incoming)
        try:
            join = " and ".join(f'r."{k}" = i."{k}"' for k in key_cols)
            for pos, dkey, period, revision, batch_id, source in con.execute(
                f"""
                select i._pos, r._delivery_key, r._period, r._revision, r._batch_id, r._source_file
                from _incoming_keys i join raw.{entity.table} r on {join} and r.service_id = i._service
                """
            ).fetchall():
                stored.setdefault(pos, []).append((dkey, (period or "", revision or 0, batch_id), source))
        finally:
            con.unregister("_incoming_keys")

    # Keys that more than one incoming delivery holds: only these can clash inside the batch.
    shared_keys: set[str] = set()
    key_values = np.array([], dtype=object)
    if len(good):
        key_text = good[key_cols].astype("string").fillna("")
        keys = pd.Series(row_service, dtype="string") + "\x1e" + key_text[key_cols[0]].reset_index(drop=True)
        for extra in key_cols[1:]:
            keys = keys + "\x1f" + key_text[extra].reset_index(drop=True)
        shared = pd.DataFrame({"file": good_files, "key": keys.to_numpy()}).drop_duplicates()
        shared_keys = set(shared.loc[shared.duplicated("key", keep=False), "key"])
        key_values = keys.to_numpy()

    duplicates: dict[int, str] = {}
    batch_keys: dict[tuple[str, str], set[str]] = {}  # delivery -> its current in-batch delivery's shared keys
    holders: dict[str, set[tuple[str, str]]] = {}  # shared key -> deliveries whose current delivery holds it
    bounds = np.searchsorted(good_files, np.arange(len(deliveries) + 1))
    # Only rows whose key is stored already or held by another incoming delivery can clash.
    in_shared = np.flatnonzero(pd.Series(key_values, dtype=object).isin(shared_keys)) if shared_keys else []
    candidates = sorted(set(stored).union(int(p) for p in in_shared))
    for f, d in enumerate(deliveries):
        mine = (delivery_service[f], d.delivery_key)
        lo, hi = bisect.bisect_left(candidates, bounds[f]), bisect.bisect_left(candidates, bounds[f + 1])
        clashing: list[int] = []  # this delivery's candidates that load
        refused = 0
        for pos in candidates[lo:hi]:
            other = None
            for dkey, rank, source in stored.get(pos, ()):
                if dkey != d.delivery_key and current.get((mine[0], dkey), (None,))[0] == rank:
                    other = source
                    break
            if other is None and key_values[pos] in shared_keys:
                for holder in holders.get(key_values[pos], ()):
                    if holder != mine:
                        other = current[holder][1]
                        break
            if other is None:
                clashing.append(pos)
            else:
                duplicates[pos] = other
                refused += 1
        loaded = bounds[f + 1] - bounds[f] - refused
        # An empty delivery supersedes too (see ``_empty_deliveries_sql``); one whose rows were
        # all refused does not, so a bad correction cannot wipe out a month.
        empty = d.result is not None and d.result.rows_received == 0 and not d.schema_error
        previous = current.get(mine)
        if hold is not None and previous is not None and d.rank > previous[0] and hold(f, loaded, previous):
            continue  # held: the previous delivery stays current
        if (loaded or empty) and (previous is None or d.rank > previous[0]):
            for key in batch_keys.pop(mine, ()):
                holders[key].discard(mine)
            current[mine] = (d.rank, d.file_name, loaded)
            held = {key_values[pos] for pos in clashing if key_values[pos] in shared_keys}
            batch_keys[mine] = held
            for key in held:
                holders.setdefault(key, set()).add(mine)
    return duplicates


def _load_deliveries(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    deliveries: list[_Delivery],
    *,
    pseudonymise: Pseudonymiser,
    run_id: str,
) -> list[FileOutcome]:
    """Validate several files (of one service or several) and write their rows, quarantine and
    log rows.

    Each file keeps its own batch id, log row and counts, exactly as if loaded alone and in
    this order; they are checked together and written in one transaction. (Checking a few
    hundred rows costs pandas tens of milliseconds whatever their number, so a close, which
    brings one small file per service, checks every service's files together.)
    """
    started = dt.datetime.now()
    first_batch = _next_batch_id(con)
    for i, d in enumerate(deliveries):
        d.batch_id = first_batch + i
    # Files name their service by their folder; only the real data and the app store, loaded a
    # file at a time, have none (their rows may carry their own).
    services = [d.service_id for d in deliveries]
    if None in services:
        assert len(deliveries) == 1, "files without a service are loaded one at a time"

    # Rows go to ``_rec`` in the warehouse's connection: DuckDB reads the files in the contract's
    # layout itself (``native.py``), the Python readers' rows are copied in; a file DuckDB cannot
    # read exactly, or that is refused whole, is parsed by the Python readers instead.
    create_input(con, entity)
    native_files = {
        i: d.result.native
        for i, d in enumerate(deliveries)
        if d.result is not None
        and d.result.native is not None
        and not d.schema_error
        and not d.copy_reason
        and schema_difference(entity, d.result.columns) is None
    }
    rows_in = native.read(con, entity, native_files) if native_files else {}
    for i, d in enumerate(deliveries):
        if d.result is not None and d.result.native is not None:
            if i in rows_in:
                d.result.native.rows = rows_in[i]
            else:
                d.result, error = parse_native(entity, d.result)
                d.schema_error = d.schema_error or error

    quarantine: list[list[tuple[int | None, str, str]]] = [[] for _ in deliveries]
    status = ["loaded"] * len(deliveries)
    message = [""] * len(deliveries)
    for i, d in enumerate(deliveries):
        result = d.result
        if result is not None and d.schema_error is None:
            d.schema_error = schema_difference(entity, result.columns)
        if d.schema_error or d.copy_reason:
            # The whole file is refused; its rows go to quarantine so the count still reconciles.
            # A copy is not a failure of the source's format: the file counts as loaded, with
            # none of its rows, and the log's message says which file it copies.
            if d.schema_error:
                status[i], message[i] = "refused", d.schema_error
                reason = f"file refused: {d.schema_error}"
            else:
                message[i] = reason = d.copy_reason or ""
            if result is not None:
                quarantine[i] += [(int(r), reason, "") for r in result.records[ROW_COLUMN]]
                quarantine[i] += [(m.row, reason, "") for m in result.malformed]
        elif result is not None:
            # A malformed row cannot be split into fields, so where the contract holds personal data
            # its text is withheld rather than risk a name reaching the warehouse.
            personal = any(c.personal or c.pseudonymise for c in entity.columns)
            quarantine[i] += [
                (m.row, f"malformed row: {m.reason}", "[withheld: may hold personal data]" if personal else m.raw_text)
                for m in result.malformed
            ]
            if result.native is None:
                put_rows(con, entity, result.records, i)

    codes = known_codes_for(con, entity, (s or "" for s in services))
    files = [
        FileInfo(
            d.service_id or "",
            d.period,
            tuple(d.result.columns) if d.result is not None else (),
            codes[d.service_id or ""],
            d.result is not None and d.result.native is not None and d.result.native.clean,
        )
        for d in deliveries
    ]
    for r in check(con, entity, files, pseudonymise=pseudonymise, loaded_at=started):
        quarantine[r.delivery].append((r.row, r.reason, r.raw_text))
    key_cols = [stored_name(entity.column(k)) for k in entity.key]
    keys = ", ".join(f'"{k}"' for k in key_cols)
    good = con.execute(f"select _d, {keys}, _src as {ROW_COLUMN} from _checked where _ok order by _d, _src").df()
    good_delivery = good.pop("_d").to_numpy(dtype=np.intp)

    received = [d.result.rows_received if d.result else 0 for d in deliveries]
    whole_file_refused = {i for i, d in enumerate(deliveries) if d.schema_error or d.copy_reason or d.result is None}

    def hold(i: int, rows_loaded: int, previous: tuple[tuple[str, int, int], str, int]) -> bool:
        if i in whole_file_refused:
            return False
        (_, _, previous_batch), previous_file, previous_rows = previous
        reason = hold_reason(
            entity,
            received=received[i],
            loaded=rows_loaded,
            previous_rows=previous_rows,
            previous_file=previous_file,
            previous_batch=previous_batch,
            delivery_key=deliveries[i].delivery_key,
            file_name=deliveries[i].file_name,
        )
        if reason:
            status[i], message[i] = "held", reason
        return reason is not None

    dups = _cross_file_duplicates(con, entity, good, good_delivery, deliveries, hold)
    dropped = pa.table({"_d": pa.array([], type=pa.int32()), "_src": pa.array([], type=pa.int64())})
    if dups:
        for pos in sorted(dups):
            key = "|".join(str(good[k].iat[pos]) for k in key_cols)
            quarantine[good_delivery[pos]].append(
                (int(good[ROW_COLUMN].iat[pos]), f"duplicate key {key} already loaded from {dups[pos]}", "")
            )
        at = sorted(dups)
        dropped = pa.table(
            {
                "_d": pa.array(good_delivery[at], type=pa.int32()),
                "_src": pa.array(good[ROW_COLUMN].to_numpy()[at], type=pa.int64()),
            }
        )
        keep = np.ones(len(good), dtype=bool)
        keep[at] = False
        good_delivery = good_delivery[keep]

    loaded = np.bincount(good_delivery, minlength=len(deliveries))
    for i, d in enumerate(deliveries):
        if received[i] != loaded[i] + len(quarantine[i]):
            raise AssertionError(
                f"{d.file_name}: reconciliation failed: received {received[i]}, loaded {loaded[i]}, "
                f"quarantined {len(quarantine[i])}"
            )
    finished = dt.datetime.now()
    con.execute("begin transaction")
    try:
        if loaded.any():
            own_service = services == [None] and "service_id" in {stored_name(c) for c in entity.loaded_columns}
            lineage = pa.table(
                {
                    "_d": pa.array(range(len(deliveries)), type=pa.int32()),
                    "service_id": pa.array(services, type=pa.string()),
                    "_source_file": [d.file_name for d in deliveries],
                    "_file_sha256": [d.sha for d in deliveries],
                    "_batch_id": pa.array([d.batch_id for d in deliveries], type=pa.int64()),
                    "_delivery_key": [d.delivery_key for d in deliveries],
                    "_period": [d.period or "" for d in deliveries],
                    "_revision": pa.array([d.revision for d in deliveries], type=pa.int64()),
                }
            )
            stored = ", ".join(f'c."{stored_name(c)}"' for c in entity.loaded_columns)
            con.register("_lineage", lineage)
            con.register("_dropped", dropped)
            con.execute(
                f"""
                insert into raw.{entity.table} by name
                select {stored}, c._src as _source_row, l.* exclude (_d{", service_id" if own_service else ""}),
                    ?::timestamp as _loaded_at
                from _checked c join _lineage l using (_d) anti join _dropped x using (_d, _src)
                where c._ok
                """,
                [started],
            )
            held = [d.batch_id for i, d in enumerate(deliveries) if status[i] == "held"]
            with_rows = [int(i) for i in np.flatnonzero(loaded)]
            delivered = f"(select * from _lineage where list_contains({with_rows}, _d))"
            if own_service:  # a delivery per service its rows name
                delivered = (
                    "(select distinct c.service_id, l.* exclude (_d, service_id) from _checked c "
                    "join _lineage l using (_d) anti join _dropped x using (_d, _src) where c._ok)"
                )
            record_deliveries(con, entity.table, delivered, held)
            con.unregister("_lineage")
            con.unregister("_dropped")
        rows = [(i, *q) for i, file_rows in enumerate(quarantine) for q in file_rows]
        if rows:
            q = pd.DataFrame(rows, columns=["_delivery", "row_number", "reason", "raw_text"])
            which = q.pop("_delivery").to_numpy()
            q["batch_id"] = np.array([d.batch_id for d in deliveries], dtype=np.int64)[which]
            q["system"], q["entity"] = entity.system, entity.entity
            q["service_id"] = np.asarray(services, dtype=object)[which]
            q["file_name"] = np.asarray([d.file_name for d in deliveries], dtype=object)[which]
            q["quarantined_at"] = finished
            con.register("_quarantine", q)
            con.execute("insert into audit.quarantine by name select * from _quarantine")
            con.unregister("_quarantine")
        log = pa.table(
            {
                "batch_id": [d.batch_id for d in deliveries],
                "run_id": [run_id] * len(deliveries),
                "system": [entity.system] * len(deliveries),
                "entity": [entity.entity] * len(deliveries),
                "raw_table": [entity.table] * len(deliveries),
                "service_id": services,
                "file_name": [d.file_name for d in deliveries],
                "file_sha256": [d.sha for d in deliveries],
                "file_bytes": [d.file_bytes for d in deliveries],
                "file_mtime_ns": [d.mtime_ns for d in deliveries],
                "encoding": [d.result.encoding if d.result else None for d in deliveries],
                "period": [d.period for d in deliveries],
                "revision": [d.revision for d in deliveries],
                "rows_received": received,
                "rows_loaded": [int(n) for n in loaded],
                "rows_quarantined": [len(q) for q in quarantine],
                "status": status,
                "message": message,
                "warnings": ["; ".join([*(d.result.warnings if d.result else ()), *d.notes]) for d in deliveries],
                "started_at": [started] * len(deliveries),
                "finished_at": [finished] * len(deliveries),
            },
            schema=_LOG_SCHEMA,
        )
        con.register("_log", log)
        con.execute("insert into audit.ingestion_log by name select * from _log")
        con.unregister("_log")
        _record_empty_deliveries(con, entity, [d.batch_id for d in deliveries])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        drop_input(con)
    return [
        FileOutcome(entity.table, d.file_name, status[i], received[i], int(loaded[i]), len(quarantine[i]), message[i])
        for i, d in enumerate(deliveries)
    ]


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
    ensure_raw_table(con, entity)
    delivery = _Delivery(file_name, sha, file_bytes, service_id, delivery_key, period, revision, result, schema_error)
    (outcome,) = _load_deliveries(con, entity, [delivery], pseudonymise=pseudonymise, run_id=run_id)
    return outcome


_PERIOD_PATTERNS = {"monthly": "YYYY-MM", "snapshot": "YYYY-MM-DD", "financial_year": "FYYYYY-YY"}


def name_pattern(entity: Entity) -> str:
    """How a landed file of ``entity`` is named, as a person reads it: ``incidents_<YYYY-MM>[_rN].csv``."""
    return f"{entity.stem}_<{_PERIOD_PATTERNS[entity.delivery]}>[_rN].{entity.extension}"


@dataclass(frozen=True)
class Refusal:
    """Something in a landing folder that is refused without being read, and why."""

    path: Path
    rel: str  # relative to the landing root
    service_id: str | None  # None: not inside a service's folder
    reason: str
    period: str | None = None
    revision: int | None = None


LandedFile = tuple[Path, str, "str | None", int, "Mapping | None"]


def scan_landing(
    landing_dir: Path, entity: Entity, mappings: Mappings | None = None
) -> tuple[list[LandedFile], list[Refusal]]:
    """The files to read for ``entity`` (as ``landed_files``) and the entries of its system's
    landing folder that are ``entity``'s to refuse unread.

    Nothing in ``<landing>/<system>/`` is passed over in silence. Refused unread: a symbolic link
    (it may point anywhere: a link to /etc/passwd would otherwise be read as a delivery), a folder
    whose resolved path is outside the landing area, anything but a regular file, a file outside
    a service's folder, and a file whose name no entity of the system reads (by the service's
    mapping where it has one, else by the contract's ``<stem>_<period>[_rN].<ext>``). One system
    folder holds several entities' files (the HR workbook's sheets, the planner's JSON and
    workbook), so each refusal belongs to one entity, to be logged once: the first of the
    system's entities that reads the entry's name, else the system's first entity.
    """
    system_entities = entities_for(entity.system) or (entity,)
    if entity not in system_entities:
        system_entities = (entity,)
    mappings = load_mappings() if mappings is None else mappings
    root = landing_dir.resolve()
    base = landing_dir / entity.system
    found: list[LandedFile] = []
    refused: list[Refusal] = []

    def reads(e: Entity, service_id: str | None, path: Path) -> tuple[str | None, int] | None:
        """(period, revision) when ``e`` reads this file of the service; None when it does not."""
        mapping = mappings.get((service_id, e.table)) if service_id is not None else None
        if mapping is not None:
            return mapped_file_period(mapping, path) if mapping.matches(path.name) else None
        return parse_file_name(e, path.name)

    def owner(service_id: str | None, path: Path) -> tuple[Entity, tuple[str | None, int] | None]:
        for e in system_entities:
            parsed = reads(e, service_id, path)
            if parsed:
                return e, parsed
        return system_entities[0], None

    def refuse(path: Path, service_id: str | None, reason: str) -> None:
        who, parsed = owner(service_id, path)
        if who == entity:
            rel = path.relative_to(landing_dir).as_posix()
            period, revision = parsed if parsed else (None, None)
            refused.append(Refusal(path, rel, service_id, f"{path.name}: {reason}", period, revision))

    def outside(path: Path) -> str | None:
        """Why ``path`` (a link, or a folder that is one) is refused, or None."""
        if path.is_symlink():
            return f"a symbolic link (to {os.readlink(path)}); refused unread: land the file itself"
        if not path.resolve().is_relative_to(root):
            return "its resolved path is outside the landing area; refused unread"
        return None

    if not (base.exists() or base.is_symlink()):
        return [], []
    why = outside(base)
    if why or not base.is_dir():
        if entity == system_entities[0]:
            rel = base.relative_to(landing_dir).as_posix()
            refused.append(Refusal(base, rel, None, f"{base.name}: {why or 'not a folder'}"))
        return [], refused
    for child in sorted(base.iterdir()):
        why = outside(child)
        if why:
            refuse(child, None, why)
            continue
        if not child.is_dir():
            refuse(child, None, f"not in a service's folder: files land in {entity.system}/<service>/")
            continue
        service_id = child.name
        mapping = mappings.get((service_id, entity.table))
        # The folder is a real one inside the landing area, so only a link takes one of its entries
        # elsewhere: the entries' own types (from the directory listing, no call per file) suffice.
        # Resolving each path took 1.0 s for 4,800 files instead of 0.07 s.
        with os.scandir(child) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                why = f"a symbolic link (to {os.readlink(path)}); refused unread: land the file itself"
            elif entry.is_dir(follow_symlinks=False):
                why = f"a folder inside a service's folder: files land directly in {entity.system}/{service_id}/"
            elif not entry.is_file(follow_symlinks=False):
                why = "not a regular file; refused unread"
            else:
                why = None
            if why:
                refuse(path, service_id, why)
                continue
            parsed = reads(entity, service_id, path)
            if parsed:
                found.append((path, service_id, parsed[0], parsed[1], mapping))
            elif owner(service_id, path)[1] is None:
                refuse(path, service_id, _misnamed(path.name, system_entities, service_id, mappings))
    found.sort(key=lambda f: (f[1], f[2] or "", f[3], f[0].name))
    return found, refused


def _misnamed(name: str, entities: Iterable[Entity], service_id: str, mappings: Mappings) -> str:
    """Why no entity reads ``name``: the names the service's files follow, and a guess when only
    case or a hyphen differ from the contract's."""
    patterns: dict[str, None] = {}
    for e in entities:
        mapping = mappings.get((service_id, e.table))
        patterns[expected_names(mapping) if mapping is not None else name_pattern(e)] = None
    message = f"file name does not follow {' or '.join(patterns)}"
    for e in entities:
        if (service_id, e.table) in mappings:
            continue
        for guess in (name.lower(), name.lower().replace("-", "_", 1)):
            if parse_file_name(e, guess):
                return f"{message} (did you mean {guess}?)"
    return message


def landed_files(landing_dir: Path, entity: Entity, mappings: Mappings | None = None) -> list[LandedFile]:
    """(path, service_id, period, revision, mapping) in load order: service, period, revision.

    A service with a source mapping for the entity is read by its mapping's file patterns (its
    period from the name, or from each row for a multi-month file: None here); any other by the
    contract's ``<stem>_<period>[_rN].<ext>``. Only regular files inside the landing area: see
    ``scan_landing`` for what is refused.
    """
    return scan_landing(landing_dir, entity, mappings)[0]


# A file modified this close to the moment it was read may be written again within the same
# tick of the file system's clock, leaving its modification time unchanged: its time is not
# recorded, so a later run reads and hashes it (git's "racily clean" files).
RACY_NS = 2_000_000_000


def trusted_mtime(mtime_ns: int) -> int | None:
    """``mtime_ns`` (taken before the file was read) if it is old enough to vouch for the bytes read."""
    return mtime_ns if mtime_ns < time.time_ns() - RACY_NS else None


# Files are loaded together (across services) until about this many rows are waiting (memory).
BATCH_ROWS = 200_000


@dataclass
class _Landed:
    """A landed file to be read: where its outcome goes in the report, and its path and stat."""

    slot: int
    path: Path
    rel: str
    service_id: str
    period: str | None
    revision: int
    size: int
    mtime_ns: int
    mapping: Mapping | None = None


def read_mapped(mapping: Mapping, path: Path) -> LandedRead:
    """``read_landed`` for a file in a service's own layout: read through its mapping, with the
    same refusals (a link, an empty file, another format, any reader error) naming the file."""

    def parse(data: bytes) -> ReadResult:
        mapped = apply_mapping(mapping, path, data)
        mapped.result.row_periods = mapped.periods
        return mapped.result

    fmt = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    return read_file(path, fmt, parse)


def split_by_period(entity: Entity, result: ReadResult) -> list[tuple[str, ReadResult]] | str:
    """A multi-month file's rows as one result per month (by each row's month in the contract's
    period column), or the reason it cannot be placed in any month. Rows without a month, and
    rows the reader could not parse, go with the first month, where the contract refuses them."""
    periods = result.row_periods
    months = sorted(periods.dropna().unique()) if periods is not None else []
    if not months:
        return f"no row has a month in {entity.period_column} to place it in, so the file cannot be split by month"
    parts = []
    for i, month in enumerate(months):
        mine = (periods == month).fillna(False).to_numpy(dtype=bool)
        if i == 0:
            mine |= periods.isna().to_numpy(dtype=bool)
        records = result.records.loc[mine].reset_index(drop=True)
        malformed = result.malformed if i == 0 else []
        part = ReadResult(result.columns, records, list(malformed), result.encoding, list(result.warnings))
        parts.append((month, part))
    return parts


def _read_all(entity: Entity, files: list[_Landed]) -> Iterator[LandedRead]:
    """``read_landed`` for each file, in order: a file in the contract's layout that DuckDB can
    read is only checked here (DuckDB reads it when it is loaded); a service's own layout is read
    through its mapping."""
    for f in files:
        yield read_landed(entity, f.path, native=True) if f.mapping is None else read_mapped(f.mapping, f.path)


def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    landing_dir: Path,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
    mappings: Mappings | None = None,
) -> IngestReport:
    """Load every new or changed landed file for ``entity``; a file already loaded from the same
    path with the same hash is skipped, and one whose size and modification time are those logged
    when it was loaded is skipped without being read. See ``_FileHistory.check`` for changed files
    and copies.

    Files are listed and checked one at a time (``_read_all``) but read by DuckDB, validated and
    written together, across services, about ``batch_rows`` rows at a time, with results identical
    to loading them one by one in order: one log row, batch id and set of counts per file.
    """
    ensure_audit_schema(con)
    ensure_raw_table(con, entity)
    run_id = run_id or uuid.uuid4().hex
    outcomes: list[FileOutcome | None] = []
    history = _FileHistory(con, entity)
    pending: list[tuple[int, _Delivery]] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal pending_rows
        if pending:
            loaded = _load_deliveries(con, entity, [d for _, d in pending], pseudonymise=pseudonymise, run_id=run_id)
            for (slot, d), outcome in zip(pending, loaded, strict=True):
                outcomes[slot] = outcome
                history.record(d, outcome)
        pending.clear()
        pending_rows = 0

    to_read: list[_Landed] = []
    files, refusals = scan_landing(landing_dir, entity, mappings)
    for path, service_id, period, revision, mapping in files:
        rel = path.relative_to(landing_dir).as_posix()
        try:
            stat = path.stat()
            size, mtime_ns = stat.st_size, stat.st_mtime_ns
        except OSError:  # gone since it was listed: reading it says why, and refuses it
            size, mtime_ns = 0, 0
        if history.unchanged(rel, size, mtime_ns):
            outcomes.append(FileOutcome(entity.table, rel, "skipped"))
            continue
        to_read.append(_Landed(len(outcomes), path, rel, service_id, period, revision, size, mtime_ns, mapping))
        outcomes.append(None)

    for f, (size, sha, result, error) in zip(to_read, _read_all(entity, to_read), strict=True):
        if pending and pending_rows >= batch_rows:
            flush()
        before = history.before(f.rel)
        if before is not None and before[0] == sha and before[1] in SETTLED:
            history.verified(f.rel, f.size, trusted_mtime(f.mtime_ns))
            outcomes[f.slot] = FileOutcome(entity.table, f.rel, "skipped")
            continue
        if error is None and result is not None:
            error = schema_difference(entity, result.columns)
        if before is not None and before[:2] == (sha, "refused") and error:
            # Logged and quarantined once already: keep failing, without a second log row,
            # until the file (or the contract) is fixed; then it loads like a new file.
            outcomes[f.slot] = FileOutcome(entity.table, f.rel, "refused", message=f"{error} (refused earlier)")
            continue
        # A multi-month file read through a mapping is one delivery per month it holds.
        parts: list[tuple[str | None, ReadResult | None]] = [(f.period, result)]
        if error is None and result is not None and result.row_periods is not None:
            split = split_by_period(entity, result)
            if isinstance(split, str):
                error = split
            else:
                parts = list(split)
        for n, (period, part) in enumerate(parts):
            slot = f.slot
            if n:
                slot = len(outcomes)
                outcomes.append(None)
            dkey = delivery_key(entity, period or "")
            delivery = _Delivery(f.rel, sha, size, f.service_id, dkey, period, f.revision, part, error)
            delivery.mtime_ns = trusted_mtime(f.mtime_ns)
            if part is not None and part.rows_received and any(d.sha == sha for _, d in pending):
                flush()  # whether this is a copy depends on what the waiting file with its bytes loads
            history.check(delivery)
            pending.append((slot, delivery))
            pending_rows += part.rows_received if part else 0
    flush()  # refusals are written in batches of their own: they have no rows, period or revision
    for refusal in refusals:
        # Refused unread (a link, a misnamed file, ...): logged once, with no hash (""); like a
        # refused file, it keeps failing the run, without a new log row, until it is moved away.
        before = history.before(refusal.rel)
        if before is not None and before[:2] == ("", "refused"):
            outcomes.append(
                FileOutcome(entity.table, refusal.rel, "refused", message=f"{refusal.reason} (refused earlier)")
            )
            continue
        delivery = _Delivery(
            refusal.rel,
            "",
            None,
            refusal.service_id,
            refusal.rel,
            refusal.period,
            refusal.revision,
            None,
            refusal.reason,
        )
        history.check(delivery)
        outcomes.append(None)
        if refusal.service_id is None:  # files without a service are loaded one at a time
            flush()
            pending.append((len(outcomes) - 1, delivery))
            flush()
        else:
            pending.append((len(outcomes) - 1, delivery))
    flush()
    history.save_verified()
    report = IngestReport()
    report.outcomes = [o for o in outcomes if o is not None]
    return report


def ingest_system(
    con: duckdb.DuckDBPyConnection,
    system: str,
    landing_dir: Path,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
    mappings: Mappings | None = None,
) -> IngestReport:
    """Load a source system's landed files; ``mappings`` are the services' own layouts (by default
    the shipped ones)."""
    report = IngestReport()
    with shared_workbooks():  # the HR extract's three sheets come from one workbook
        for entity in entities_for(system):
            report.outcomes += ingest_entity(con, entity, landing_dir, pseudonymise, run_id, mappings=mappings).outcomes
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
    histories: dict[str, _FileHistory] = {}
    for source in REAL_SOURCES:
        path = real_dir / source.path
        label = f"real/{source.path}"
        sha = sha256_file(path)
        if source.table not in histories:
            histories[source.table] = _FileHistory(con, source.entity)
        history = histories[source.table]
        before = history.before(label)
        if before is not None and before[0] == sha and before[1] in SETTLED:
            report.outcomes.append(FileOutcome(source.table, label, "skipped"))
            continue
        try:
            result, error = source.adapter(path), None
        except SchemaError as exc:
            result, error = None, str(exc)
        # The landed files' rules: a changed file is noted; one source's bytes under another
        # source's name (a download saved to the wrong place) are a copy, not new data.
        delivery = _Delivery(label, sha, path.stat().st_size, source.service_id, source.path, None, 1, result, error)
        history.check(delivery)
        (outcome,) = _load_deliveries(con, source.entity, [delivery], pseudonymise=pseudonymise, run_id=run_id)
        history.record(delivery, outcome)
        report.outcomes.append(outcome)
    return report


def ingest_app_store(
    con: duckdb.DuckDBPyConnection,
    app_store_dir: Path,
    pseudonymise: Pseudonymiser,
    run_id: str | None = None,
) -> IngestReport:
    """Load the app's commentary store (append-only SQLite) as a snapshot source.

    Unchanged since the last load (the same content hash as the store's last load) means nothing
    to do. The store is one file that is meant to change, so there are no copies to look for
    and a change is no warning.
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
    before = _FileHistory(con, COMMENTARY_ENTITY).before(label)
    if before is not None and before[0] == sha and before[1] in SETTLED:
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
