"""Approved months (from the approvals file, not serving.duckdb, which the pipeline replaces): the latest
approved month a viewer may see, a month's figures exactly as approved, whether a month is a draft,
approved or restated, and the restatements waiting for approval again."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pandas as pd

from data_access import scope
from data_access.connection import serving_path
from orchestration.approvals import restatements, store

STATUS_LABELS = {
    "draft": "Draft: not yet approved by the performance team",
    "approved": "Approved",
    "restated": "Restated since approval: figures differ from those approved",
}


def latest_approved_month(service_id: str) -> dt.date | None:
    """The newest month approved for the service, or None: the month a viewer's reports default to."""
    scope.require_own_service(service_id)
    return store.latest_approved_month(service_id, store.default_path())


def approved_months(service_id: str) -> list[dt.date]:
    """Every month approved for the service, newest first: the months a viewer can open."""
    scope.require_own_service(service_id)
    return sorted({a.period_month for a in store.list_approvals(store.default_path(), service_id)}, reverse=True)


def viewer_approved_rows() -> pd.DataFrame:
    """The latest approved version of every approved month of the acting person's service(s), as the
    mart's rows: what a viewer's report queries read (data_access/connection.py lays them out)."""
    user = scope.require(scope.REPORTS)
    services = scope.readable_services(user)
    path = store.default_path()
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return _approved_rows(path, stamp, tuple(sorted(services)) if services is not None else None)


# Approvals change only when someone approves: the decoded rows (about 0.1 s a service-month) are kept
# until the approvals file changes.
@functools.lru_cache(maxsize=8)
def _approved_rows(path: Path, stamp: int, services: tuple[str, ...] | None) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    chosen = [a for a in store.list_approvals(path, latest_only=True) if services is None or a.service_id in services]
    frames = [store.approved_frame(path, a.approval_id) for a in chosen]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def approved_kpi_monthly(service_id: str, month: dt.date, version: int | None = None) -> pd.DataFrame:
    """The service's marts.rpt_kpi_monthly rows for the month exactly as approved (the latest version
    unless one is given); empty if the month was never approved (or has no such version)."""
    scope.require_own_service(service_id)
    path = store.default_path()
    approvals = [a for a in store.list_approvals(path, service_id) if a.period_month == month]
    chosen = next((a for a in approvals if version is None or a.version == version), None)
    return store.approved_frame(path, chosen.approval_id) if chosen else pd.DataFrame()


def month_status(service_id: str, month: dt.date) -> tuple[str, store.Approval | None]:
    """("draft" | "approved" | "restated", the latest approval or None)."""
    scope.require_own_service(service_id)
    return restatements.month_status(store.default_path(), serving_path(), service_id, month)


def restatement_changes(service_id: str, month: dt.date) -> pd.DataFrame:
    """Each change since the month's latest approval: KPI, unit, month, column, as approved, now, cause.
    The figures now are a draft until approved again: not for a viewer; a manager sees its own units."""
    user = scope.require_own_service(service_id)
    if scope.reads_approved_only(user):
        raise scope.AccessDenied("Restated figures are drafts until the performance team approves them again.")
    found = [
        r
        for r in restatements.find_restatements(store.default_path(), serving_path(), service_id)
        if r.approval.period_month == month
    ]
    columns = ["kpi_code", "org_unit_id", "period_month", "column", "as_approved", "now", "cause"]
    rows = [[getattr(c, name) for name in columns] for r in found for c in r.changes]
    # Old and new values are of several types (numbers, RAG text): shown as text in one column each.
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("as_approved", "now"):
        frame[name] = frame[name].map(lambda v: "" if v is None else str(v))
    return scope.in_scope(frame, month)
