"""Restatements: an approved month whose figures in serving.duckdb now differ from the approved ones.
Each change is listed with the value as approved, the value now, and the run that wrote the new row
(its dbt build, the deliveries loaded for the service since the build before, accepted re-deliveries
and changed definitions), from the audit tables the publish copies into serving.duckdb."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.accounts.store import iso, record_event, utc_now
from orchestration.approvals.store import (
    ROW_KEY,
    Approval,
    approved_rows,
    connect,
    figures,
    fingerprint,
    list_approvals,
    month_rows,
)

ROW_MISSING = "(no row)"


@dataclass(frozen=True)
class Change:
    kpi_code: str
    org_unit_id: str
    period_month: dt.date
    column: str  # the column that changed, or "row" when the KPI and unit row was added or removed
    as_approved: object
    now: object
    cause: str


@dataclass(frozen=True)
class Restatement:
    approval: Approval
    fingerprint_now: str
    changes: list[Change]


def month_status(path: Path, serving_path: Path, service_id: str, month: dt.date) -> tuple[str, Approval | None]:
    """("draft", None) before any approval; ("approved", latest) while serving.duckdb holds exactly the
    approved figures; ("restated", latest) once they differ."""
    latest = next((a for a in list_approvals(path, service_id, latest_only=True) if a.period_month == month), None)
    if latest is None:
        return "draft", None
    same = current_fingerprint(serving_path, service_id, month) == latest.fingerprint
    return ("approved" if same else "restated"), latest


def current_fingerprint(serving_path: Path, service_id: str, month: dt.date) -> str:
    """The fingerprint of the month's figures in serving.duckdb as it is now. Remembered per state of the
    file (a publish replaces it, so its size and modification time change): reading and hashing a
    service-month of 2,313 rows takes about 0.5 s, too long for every render of the monthly page."""
    stat = Path(serving_path).stat()
    return _fingerprint_of(str(serving_path), stat.st_mtime_ns, stat.st_size, service_id, month)


@functools.lru_cache(maxsize=64)
def _fingerprint_of(serving_path: str, mtime_ns: int, size: int, service_id: str, month: dt.date) -> str:
    return fingerprint(month_rows(Path(serving_path), service_id, month))


def find_restatements(path: Path, serving_path: Path, service_id: str | None = None) -> list[Restatement]:
    """Every approved month (its latest version) whose figures in serving.duckdb differ from the approval's."""
    found = []
    for approval in list_approvals(path, service_id, latest_only=True):
        fp_now = current_fingerprint(serving_path, approval.service_id, approval.period_month)
        if fp_now != approval.fingerprint:
            rows_now = month_rows(serving_path, approval.service_id, approval.period_month)
            changes = diff(approval, approved_rows(path, approval.approval_id), rows_now, serving_path)
            found.append(Restatement(approval, fp_now, changes))
    return found


def diff(approval: Approval, approved: list[dict], rows_now: list[dict], serving_path: Path) -> list[Change]:
    """Each changed cell (and each added or removed row), in KPI and unit order."""
    before = {tuple(r[k] for k in ROW_KEY): r for r in approved}
    after = {tuple(r[k] for k in ROW_KEY): r for r in rows_now}
    causes = _Causes(serving_path, approval.service_id, approval.period_month)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        cause = causes.of(new.get("_invocation_id") if new else None)
        if old is None or new is None:
            changes.append(
                Change(*key, approval.period_month, "row", ROW_MISSING if old is None else "present",
                       ROW_MISSING if new is None else "present", cause)
            )  # fmt: skip
            continue
        new_figures = figures(new)
        for column in [c for c in new_figures if c in old] + [c for c in old if c not in new_figures]:
            if old.get(column) != new_figures.get(column):
                changes.append(
                    Change(*key, approval.period_month, column, old.get(column), new_figures.get(column), cause)
                )
    return changes


class _Causes:
    """What wrote a row: its dbt build named from serving.duckdb's audit tables, looked up once per build."""

    def __init__(self, serving_path: Path, service_id: str, month: dt.date) -> None:
        self.serving_path = serving_path
        self.service_id = service_id
        self.month = month
        self.known: dict[str | None, str] = {}

    def of(self, invocation_id: str | None) -> str:
        if invocation_id not in self.known:
            if invocation_id is None:
                self.known[None] = "not known: the row names no dbt build"
            else:
                con = duckdb.connect(str(self.serving_path), read_only=True)
                try:
                    self.known[invocation_id] = describe_build(con, invocation_id, self.service_id, self.month)
                finally:
                    con.close()
        return self.known[invocation_id]


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchall()[0][0]
    )


def describe_build(con: duckdb.DuckDBPyConnection, invocation_id: str, service_id: str, month: dt.date) -> str:
    """One line naming the dbt build, the service's deliveries for the month it was the first to see (and
    how many for other months), the re-deliveries accepted before it, and the definitions that changed
    since the build before it."""
    if not _has(con, "audit.dbt_invocations"):
        return f"dbt build {invocation_id} (serving.duckdb has no audit.dbt_invocations)"
    build = con.execute(
        "select run_id, finished_at, full_refresh, batches_through from audit.dbt_invocations "
        "where invocation_id = ? and success order by finished_at desc limit 1",
        [invocation_id],
    ).fetchall()
    if not build:
        return f"dbt build {invocation_id} (not in audit.dbt_invocations)"
    run_id, finished_at, full_refresh, through = build[0]
    previous = con.execute(
        "select invocation_id, finished_at, batches_through from audit.dbt_invocations "
        "where success and finished_at < ? order by finished_at desc limit 1",
        [finished_at],
    ).fetchall()
    prev_id, prev_finished, prev_through = previous[0] if previous else (None, None, None)
    parts = [
        f"{'full rebuild' if full_refresh else 'monthly close'} in run {run_id} ({finished_at:%Y-%m-%d %H:%M} UTC)"
    ]
    if _has(con, "audit.ingestion_log") and through is not None:
        # A delivery's period is its month (2026-09), a snapshot's day (2026-09-30) or absent.
        files = con.execute(
            "select file_name, revision, batch_id, coalesce(left(period, 7) = ?, false) from audit.ingestion_log "
            "where batch_id > ? and batch_id <= ? and service_id = ? and status = 'loaded' order by batch_id",
            [f"{month:%Y-%m}", -1 if prev_through is None else prev_through, through, service_id],
        ).fetchall()
        this_month = [f for f in files if f[3]]
        if this_month:
            shown = ", ".join(f"{f} (batch {b}{f', revision {r}' if r else ''})" for f, r, b, _ in this_month[:5])
            more = f" and {len(this_month) - 5} more" if len(this_month) > 5 else ""
            parts.append(f"deliveries for {month:%Y-%m} loaded: {shown}{more}")
        if len(files) > len(this_month):
            parts.append(f"{len(files) - len(this_month)} deliveries for other months or undated loaded")
    if _has(con, "audit.delivery_decisions"):
        accepted = con.execute(
            "select file_name, decided_by from audit.delivery_decisions where decision = 'accepted' "
            "and decided_at <= ? and (? is null or decided_at > ?) order by decided_at",
            [finished_at, prev_finished, prev_finished],
        ).fetchall()
        if accepted:
            parts.append("re-deliveries accepted: " + ", ".join(f"{f} by {who}" for f, who in accepted))
    if prev_id and _has(con, "audit.dbt_definitions"):
        changed = [
            r[0]
            for r in con.execute(
                "select now.unique_id from audit.dbt_definitions as now left join audit.dbt_definitions as before "
                "on before.unique_id = now.unique_id and before.invocation_id = ? "
                "where now.invocation_id = ? and before.fingerprint is distinct from now.fingerprint "
                "and exists (select 1 from audit.dbt_definitions where invocation_id = ?) order by 1",
                [prev_id, invocation_id, prev_id],
            ).fetchall()
        ]
        if changed:
            parts.append("definitions changed: " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else ""))
    return "; ".join(parts)


def record_restatements(
    path: Path, restatements: list[Restatement], accounts_path: Path | None = None, now: dt.datetime | None = None
) -> list[Restatement]:
    """Note each restatement once (per approval and new figures) and, the first time, in the audit trail
    of people, so the auditor sees when a reported figure moved. Returns those not seen before."""
    now = now or utc_now()
    new = []
    with connect(path) as con:
        for r in restatements:
            inserted = con.execute(
                "insert or ignore into restatements (approval_id, fingerprint_now, found_at, changes) "
                "values (?, ?, ?, ?)",
                [r.approval.approval_id, r.fingerprint_now, iso(now), len(r.changes)],
            ).rowcount
            if inserted:
                new.append(r)
    for r in new if accounts_path is not None else []:
        a = r.approval
        detail = f"{a.service_id} {a.period_month:%Y-%m} version {a.version}: {len(r.changes)} changes; approve again"
        record_event(accounts_path, "pipeline", "restatement", detail, now)
    return new


def check_after_publish(approvals_path: Path, serving_path: Path, accounts_path: Path | None) -> str | None:
    """After a publish: one line naming each approved month the new figures restate (recorded in the
    audit trail the first time), or None when every approved month is as approved."""
    if not Path(approvals_path).exists():
        return None  # nothing approved yet
    found = find_restatements(approvals_path, serving_path)
    record_restatements(approvals_path, found, accounts_path)
    if not found:
        return None
    months = ", ".join(
        f"{r.approval.service_id} {r.approval.period_month:%Y-%m} (version {r.approval.version}, "
        f"{len(r.changes)} changes)"
        for r in found
    )
    return (
        f"{len(found)} approved months restated by this publication: {months}; the performance team approves "
        "them again (python -m orchestration.cli approvals restatements)"
    )
