"""The approvals file: who approved which service-month, when, a fingerprint of the figures, and the
approved rows themselves, so an approved month stays available exactly as it was approved.

SQLite under ``data/app_store/`` (``approvals.sqlite``), not a DuckDB file: the publish replaces
``serving.duckdb`` whole, and a DuckDB file held by one process (the app, the ``approvals`` command)
cannot be opened by another, while SQLite lets the app's sessions and the command take turns. It is a
file of its own beside ``accounts.sqlite``: it grows by a month's rows at each approval, while the
accounts file holds credentials. Approvals and snapshots are append-only (triggers refuse changes):
approving again adds a version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.accounts.store import User, iso, record_event, utc_now
from orchestration.append_only import append_only
from orchestration.settings import Settings

APPROVER_ROLE = "performance"
FILE_NAME = "approvals.sqlite"
# The row key within a service-month, and the columns that are not figures: which dbt build wrote a
# row says nothing about its value, and a rebuild with the same inputs must keep the fingerprint.
ROW_KEY = ("kpi_code", "org_unit_id")
NOT_FIGURES = ("_invocation_id",)

_SCHEMA = """
create table if not exists approvals (
    approval_id integer primary key autoincrement,
    service_id text not null,
    period_month text not null,          -- YYYY-MM-01
    version integer not null,            -- 1 for the first approval of the month, then 2, 3 ...
    approved_by text not null,
    approved_at text not null,           -- ISO 8601 UTC
    fingerprint text not null,           -- sha256 over the month's rows (store.fingerprint)
    row_count integer not null,
    serving_run_id text,                 -- the publication (meta.publish_info.run_id) the rows were read from
    unique (service_id, period_month, version)
);
create table if not exists approved_figures (
    approval_id integer primary key references approvals (approval_id),
    -- The month's rows as approved: a JSON list of objects (every column of marts.rpt_kpi_monthly but
    -- _invocation_id, in KPI and unit order), zlib-compressed: a service-month of 2,313 rows is 2.3 MB
    -- as JSON and 0.19 MB compressed.
    rows_zlib blob not null
);
create table if not exists restatements (
    approval_id integer not null references approvals (approval_id),
    fingerprint_now text not null,       -- the figures found in serving.duckdb that differ from the approval's
    found_at text not null,
    changes integer not null,
    primary key (approval_id, fingerprint_now)
);
"""
_SCHEMA += append_only("approvals", "approvals are append-only: approve again for a new version")
_SCHEMA += append_only("approved_figures", "approved figures are kept as approved")


class ApprovalError(ValueError):
    """An approval that cannot be made or read (names the service, month and what is wrong)."""


@dataclass(frozen=True)
class Approval:
    approval_id: int
    service_id: str
    period_month: dt.date
    version: int
    approved_by: str
    approved_at: dt.datetime
    fingerprint: str
    row_count: int
    serving_run_id: str | None


def default_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).app_store_dir / FILE_NAME


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=10)) as con:
        con.executescript(_SCHEMA)
        with con:  # one transaction, committed on leaving
            yield con


def parse_month(text: str | dt.date) -> dt.date:
    """A month as ``2026-09`` or ``2026-09-01`` (or a date): the first day of that month."""
    if isinstance(text, dt.date):
        return text.replace(day=1)
    try:
        day = dt.date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        raise ApprovalError(f"month {text!r} is not a month: write it as YYYY-MM, e.g. 2026-09") from None
    if day.day != 1:
        raise ApprovalError(f"month {text!r} is a day, not a month: write it as YYYY-MM, e.g. {day:%Y-%m}")
    return day


# ---- the figures ---------------------------------------------------------------------------------


def _plain(value):
    """A cell as JSON keeps it: dates as ISO text, NaN as null (JSON has no NaN)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def month_rows(serving_path: Path, service_id: str, month: dt.date) -> list[dict]:
    """The service's rows of marts.rpt_kpi_monthly for the month, ordered by KPI and unit; each a dict
    of every column (``_invocation_id`` included, for tracing; it is not a figure)."""
    serving_path = Path(serving_path)
    if not serving_path.exists():
        raise ApprovalError(f"{serving_path} does not exist yet: run the pipeline first")
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        cursor = con.execute(
            "select * from marts.rpt_kpi_monthly where service_id = ? and period_month = ? "
            "order by kpi_code, org_unit_id",
            [service_id, month],
        )
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    keys = [tuple(r[k] for k in ROW_KEY) for r in rows]
    if len(set(keys)) != len(keys):
        raise ApprovalError(
            f"{service_id} {month:%Y-%m}: marts.rpt_kpi_monthly has more than one row for a KPI and unit; "
            "the mart's checks should have stopped this publication"
        )
    return rows


def figures(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in NOT_FIGURES}


def canonical(rows: list[dict]) -> str:
    """The rows' figures as one JSON text, in KPI and unit order with sorted column names: the same for
    the same figures whichever build wrote them and whatever order the query returned them in."""
    ordered = sorted((figures(r) for r in rows), key=lambda r: tuple(str(r[k]) for k in ROW_KEY))
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(rows: list[dict]) -> str:
    """sha256 of the canonical text: what an approval records, and what the kept figures hash to."""
    return hashlib.sha256(canonical(rows).encode("utf-8")).hexdigest()


def _serving_run_id(serving_path: Path) -> str | None:
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        rows = con.execute(
            "select run_id from meta.publish_info limit 1"
            if con.execute(
                "select count(*) from information_schema.tables where table_schema = 'meta' "
                "and table_name = 'publish_info'"
            ).fetchall()[0][0]
            else "select null"
        ).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


# ---- approving -----------------------------------------------------------------------------------


def _approval(row: tuple, path: Path) -> Approval:
    approval_id, service, month, version, by, at, fp, count, run_id = row
    try:
        month_day, moment = dt.date.fromisoformat(month), dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        raise ApprovalError(
            f"{path}: approval {approval_id} is damaged: period_month {month!r} or approved_at {at!r} is not a date"
        ) from None
    return Approval(approval_id, service, month_day, version, by, moment, fp, count, run_id)


_COLUMNS = (
    "approval_id, service_id, period_month, version, approved_by, approved_at, fingerprint, row_count, serving_run_id"
)


def approve(
    path: Path,
    serving_path: Path,
    service_id: str,
    month: str | dt.date,
    approver: User,
    accounts_path: Path | None = None,
    now: dt.datetime | None = None,
) -> tuple[Approval, bool]:
    """Approve the service's month as serving.duckdb holds it now: (the approval, True) for a new version,
    or (the latest approval, False) when that already approved exactly these figures. Recorded in the
    accounts file's audit trail when ``accounts_path`` is given."""
    month = parse_month(month)
    if approver.role != APPROVER_ROLE or approver.is_disabled:
        raise ApprovalError(
            f"{approver.name} cannot approve: only an active account with role {APPROVER_ROLE!r} approves a month "
            f"({approver.name} has role {approver.role!r}{', disabled' if approver.is_disabled else ''})"
        )
    rows = month_rows(serving_path, service_id, month)
    if not rows:
        raise ApprovalError(
            f"no figures for {service_id} in {month:%Y-%m} in {serving_path}: nothing to approve "
            "(is the service id right, and has that month been closed?)"
        )
    fp = fingerprint(rows)
    run_id = _serving_run_id(Path(serving_path))
    now = now or utc_now()
    with connect(path) as con:
        latest = con.execute(
            f"select {_COLUMNS} from approvals where service_id = ? and period_month = ? order by version desc limit 1",
            [service_id, month.isoformat()],
        ).fetchone()
        if latest and latest[6] == fp:
            return _approval(latest, path), False
        version = latest[3] + 1 if latest else 1
        cursor = con.execute(
            "insert into approvals (service_id, period_month, version, approved_by, approved_at, fingerprint, "
            "row_count, serving_run_id) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [service_id, month.isoformat(), version, approver.name, iso(now), fp, len(rows), run_id],
        )
        approval_id = cursor.lastrowid
        con.execute(
            "insert into approved_figures (approval_id, rows_zlib) values (?, ?)",
            [approval_id, zlib.compress(canonical(rows).encode("utf-8"), 6)],
        )
    if accounts_path is not None:
        detail = f"{service_id} {month:%Y-%m} version {version}, {len(rows)} rows, fingerprint {fp[:12]}"
        record_event(accounts_path, approver.name, "approval", detail, now)
    approval = Approval(approval_id, service_id, month, version, approver.name, now, fp, len(rows), run_id)
    return approval, True


# ---- reading -------------------------------------------------------------------------------------


def list_approvals(path: Path, service_id: str | None = None, latest_only: bool = False) -> list[Approval]:
    """Approvals, newest month first, newest version first within a month."""
    where, params = ("where service_id = ?", [service_id]) if service_id else ("", [])
    with connect(path) as con:
        rows = con.execute(
            f"select {_COLUMNS} from approvals {where} order by service_id, period_month desc, version desc", params
        ).fetchall()
    approvals = [_approval(r, path) for r in rows]
    if not latest_only:
        return approvals
    latest: dict[tuple[str, dt.date], Approval] = {}
    for a in approvals:  # newest version first, so the first seen of a month is its latest
        latest.setdefault((a.service_id, a.period_month), a)
    return list(latest.values())


def latest_approval(path: Path, service_id: str, month: str | dt.date) -> Approval | None:
    month = parse_month(month)
    with connect(path) as con:
        row = con.execute(
            f"select {_COLUMNS} from approvals where service_id = ? and period_month = ? order by version desc limit 1",
            [service_id, month.isoformat()],
        ).fetchone()
    return _approval(row, path) if row else None


def latest_approved_month(service_id: str, path: Path | None = None) -> dt.date | None:
    """The newest month the performance team has approved for the service (any version), or None.
    A restated month stays approved: its approved figures are what viewers read until it is approved again."""
    with connect(path or default_path()) as con:
        row = con.execute("select max(period_month) from approvals where service_id = ?", [service_id]).fetchone()
    return dt.date.fromisoformat(row[0]) if row and row[0] else None


def approved_rows(path: Path, approval_id: int) -> list[dict]:
    """The approved figures of one approval, as they were approved, in KPI and unit order."""
    with connect(path) as con:
        row = con.execute("select rows_zlib from approved_figures where approval_id = ?", [approval_id]).fetchone()
    return json.loads(zlib.decompress(row[0]).decode("utf-8")) if row else []


def approved_frame(path: Path, approval_id: int) -> pd.DataFrame:
    """approved_rows as a table with period_month a date, as the mart has it."""
    frame = pd.DataFrame(approved_rows(path, approval_id))
    if "period_month" in frame:
        frame["period_month"] = pd.to_datetime(frame["period_month"]).dt.date
    return frame
