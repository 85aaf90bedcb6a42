"""Who may read and write what: the signed-in person's role and organisation unit turned into checks the
data access makes before it returns a figure or a record. Pages only hide what a role may not see; the
refusal that matters is here, so a page that forgets to hide something still shows nothing it should not.

    viewer       the reports of its own service; no record-level data; workforce figures of small units suppressed
    manager      the reports of its unit and every unit below it (no service-wide view); commentary on the
                 KPIs it owns there
    performance  the reports of every unit of every service; commentary on any KPI
    analyst      the reports of every unit, the assurance pages and drill-through to records
    auditor      the assurance pages (data quality, ingestion, audit trail) and drill-through, every unit, read-only
    admin        users and the audit trail of people; no figures
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import pandas as pd

from data_access.connection import query, serving_path
from data_access.report_sql import VALID_AT
from orchestration.accounts.config import KPI_OWNERS_FILE, AuthConfig
from orchestration.accounts.store import User, record_event, utc_now
from orchestration.sharing.disclosure import is_primary

REPORTS, RECORDS, ASSURANCE, PEOPLE, COMMENTARY = "reports", "records", "assurance", "people", "commentary"
CAN: dict[str, frozenset[str]] = {
    "viewer": frozenset({REPORTS}),
    "manager": frozenset({REPORTS, COMMENTARY}),
    "performance": frozenset({REPORTS, COMMENTARY}),
    "analyst": frozenset({REPORTS, ASSURANCE, RECORDS}),
    "auditor": frozenset({ASSURANCE, RECORDS, PEOPLE}),
    "admin": frozenset({PEOPLE}),
}
WHAT = {
    REPORTS: "the performance reports",
    RECORDS: "record-level drill-through",
    ASSURANCE: "the data-quality and ingestion pages",
    PEOPLE: "users and the audit trail of people",
    COMMENTARY: "writing commentary",
}
# The data source the workforce KPIs come from (the KPI catalogue's source_systems): their figures
# describe people, so small units are suppressed for viewers by the sharing disclosure rule.
WORKFORCE_SOURCE = "hr"
SUPPRESSED_NOTE = "suppressed: a count of 1 to 7 (disclosure control)"


class AccessDenied(PermissionError):
    """The signed-in person's role or unit does not allow this; the message says which and why."""


# Outside a Streamlit session (the pipeline, a test calling the data access directly) nobody is
# signed in; ``acting_as`` names the person the calls are made for.
_acting: ContextVar[User | None] = ContextVar("gt_acting_user", default=None)


@contextlib.contextmanager
def acting_as(user: User | None) -> Iterator[None]:
    token = _acting.set(user)
    try:
        yield
    finally:
        _acting.reset(token)


def acting_user() -> User | None:
    """The signed-in person of this Streamlit session, else the one ``acting_as`` names."""
    from auth import current_user  # the app's module; imported late so the pipeline never needs Streamlit

    return current_user() or _acting.get()


def _user() -> User:
    user = acting_user()
    if user is None:
        raise AccessDenied("Nobody is signed in: sign in to see the reports.")
    return user


def can(capability: str, user: User | None = None) -> bool:
    user = user or acting_user()
    return user is not None and capability in CAN.get(user.role, frozenset())


def require(capability: str, *or_capabilities: str) -> User:
    """The acting user if its role allows ``capability`` (or one of ``or_capabilities``); else
    AccessDenied naming the role."""
    user = _user()
    wanted = {capability, *or_capabilities}
    if not wanted & CAN.get(user.role, frozenset()):
        allowed = sorted(role for role, caps in CAN.items() if wanted & caps)
        raise AccessDenied(
            f"Your role ({user.role}) does not give access to {WHAT[capability]}; it is open to: {', '.join(allowed)}."
        )
    return user


# ---- organisation scope -----------------------------------------------------------------------


def _published() -> tuple[str, int]:
    """Identifies the serving file in place: a publish replaces it, so a cached answer is dropped."""
    path = serving_path()
    return str(path), path.stat().st_mtime_ns if path.exists() else 0


# The hierarchy and the catalogue change only with a publish; asking them on every query cost a
# manager's page about 40 ms a query on this machine (measured on the demo's serving file).
def _subtree(root: str, month) -> frozenset[str]:
    return _subtree_cached(root, month, _published())


@functools.lru_cache(maxsize=256)
def _subtree_cached(root: str, month, published: tuple[str, int]) -> frozenset[str]:
    """``root`` and every unit below it: as the hierarchy stood in ``month``, or at any time if None."""
    valid = VALID_AT.format(u="u", m="$month") if month is not None else "true"
    df = query(
        f"""
        with recursive tree as (
            select org_unit_id from marts.dim_org_unit as u where org_unit_id = $unit and {valid}
            union
            select u.org_unit_id from marts.dim_org_unit as u
            inner join tree on u.parent_org_unit_id = tree.org_unit_id
            where {valid}
        )
        select org_unit_id from tree
        """,
        {"unit": root, "month": month} if month is not None else {"unit": root},
    )
    return frozenset(df.org_unit_id)


def _service_of(org_unit_id: str) -> str | None:
    return _service_of_cached(org_unit_id, _published())


@functools.lru_cache(maxsize=1024)
def _service_of_cached(org_unit_id: str, published: tuple[str, int]) -> str | None:
    df = query(
        "select any_value(service_id) as service_id from marts.dim_org_unit where org_unit_id = ?", [org_unit_id]
    )
    value = df.service_id.iloc[0] if len(df) else None
    return None if value is None or pd.isna(value) else str(value)


def reads_approved_only(user: User | None = None) -> bool:
    """A viewer reads only approved months, as approved; every other role with the reports reads the
    published figures, drafts included."""
    user = user or acting_user()
    return user is not None and user.role == "viewer"


def require_own_service(service_id: str, capability: str = REPORTS) -> User:
    """The acting user if it may read ``capability`` for some part of ``service_id``."""
    user = require(capability)
    services = readable_services(user)
    if services is not None and service_id not in services:
        raise AccessDenied(f"{service_id} is another service than yours ({', '.join(sorted(services))}).")
    return user


def readable_units(month=None, user: User | None = None) -> frozenset[str] | None:
    """The units whose figures ``user`` may read; None means every unit (of its own service, for a
    viewer: ``require_unit`` and ``require_service`` check that)."""
    user = user or _user()
    if user.role == "manager":
        return _subtree(user.org_unit_id, month)
    return None


def readable_services(user: User | None = None) -> set[str] | None:
    """The services a person may pick; None means all. A viewer and a manager belong to one service."""
    user = user or _user()
    if user.role in ("viewer", "manager"):
        own = _service_of(user.org_unit_id)
        return {own} if own else set()
    return None


def require_unit(org_unit_id: str, month=None, capability: str = REPORTS, *or_capabilities: str) -> User:
    """The acting user if it may read ``capability`` (or one of ``or_capabilities``) for ``org_unit_id``;
    else AccessDenied."""
    user = require(capability, *or_capabilities)
    units = readable_units(month, user)
    if units is not None and org_unit_id not in units:
        raise AccessDenied(
            f"{org_unit_id} is outside your organisation scope ({user.org_unit_id} and the units below it)."
        )
    services = readable_services(user)
    if units is None and services is not None and _service_of(org_unit_id) not in services:
        raise AccessDenied(f"{org_unit_id} belongs to another service than yours ({', '.join(sorted(services))}).")
    return user


def require_service(service_id: str, month=None, capability: str = REPORTS) -> User:
    """For service-wide views (the quarterly review, the golden thread, the plan): the service's own
    figures, so not for a manager, whose scope is a part of it."""
    user = require(capability)
    if user.role == "manager" and user.org_unit_id != service_id:
        raise AccessDenied(
            f"The service-wide view of {service_id} is outside your organisation scope ({user.org_unit_id} and the "
            "units below it): open your unit in the monthly snapshot or the station and watch profile."
        )
    services = readable_services(user)
    if services is not None and service_id not in services:
        raise AccessDenied(f"{service_id} is another service than yours ({', '.join(sorted(services))}).")
    return user


def in_scope(df: pd.DataFrame, month=None, column: str = "org_unit_id") -> pd.DataFrame:
    """The rows of ``df`` whose unit the acting user may read."""
    units = readable_units(month)
    if units is None or df.empty:
        return df
    return df[df[column].isin(units)].reset_index(drop=True)


# ---- record-level views in the audit trail ------------------------------------------------------

# A page reruns its queries on every click: the same view by the same person within this window is one
# entry in the audit trail, not one per rerun.
RECORD_VIEW_WINDOW = dt.timedelta(minutes=10)
_recent_views: dict[tuple[str, str], dt.datetime] = {}
_recent_lock = threading.Lock()


def record_view(what: str, rows: int) -> None:
    """Writes "who looked at which records" to the audit trail of people (the auditor's page shows it):
    every query that returns record-level data calls this after its scope check."""
    user = _user()
    now = utc_now()
    key = (user.name, what)
    with _recent_lock:
        seen = _recent_views.get(key)
        if seen is not None and now - seen < RECORD_VIEW_WINDOW:
            return
        _recent_views[key] = now
    record_event(AuthConfig.from_env().accounts_path, user.name, "record_view", f"{what}: {rows} rows")


# ---- disclosure for viewers ---------------------------------------------------------------------


def workforce_kpis() -> frozenset[str]:
    return _workforce_kpis(_published())


@functools.lru_cache(maxsize=4)
def _workforce_kpis(published: tuple[str, int]) -> frozenset[str]:
    df = query("select kpi_code, source_systems from marts.dim_kpi")
    return frozenset(
        {
            row.kpi_code
            for row in df.itertuples()
            if WORKFORCE_SOURCE in str(row.source_systems or "").replace(",", ";").split(";")
        }
    )


def _small(value) -> bool:
    if value is None or pd.isna(value):
        return False
    return float(value).is_integer() and is_primary(int(value))


def suppress_for_viewer(df: pd.DataFrame) -> pd.DataFrame:
    """For a viewer: a workforce KPI's figures below service level, and any KPI's figures at ward level,
    are blanked where its numerator or denominator is a count the disclosure rule hides (1–7), or
    where the counts are not in the rows (a history or trend, which could be read back to them).
    Other roles get ``df`` unchanged."""
    user = acting_user()
    if user is None or user.role != "viewer" or df.empty or "kpi_code" not in df.columns:
        return df
    workforce = df.kpi_code.isin(workforce_kpis())
    below_service = df.org_level.ne("service") if "org_level" in df.columns else pd.Series(True, index=df.index)
    # Ward cells are small enough to point at a household: the same rule for every KPI at ward level.
    ward = df.org_level.eq("ward") if "org_level" in df.columns else pd.Series(False, index=df.index)
    if "numerator" in df.columns and "denominator" in df.columns:
        small = df.numerator.map(_small) | df.denominator.map(_small)
    else:
        small = pd.Series(True, index=df.index)
    hide = ((workforce & below_service) | ward) & small
    if not hide.any():
        return df
    df = df.copy()
    figures = [
        c for c in df.columns
        if c.startswith(("value", "numerator", "denominator", "variance", "spc_", "history", "rag_status",
                         "direction", "parent_value", "service_value", "gap_to",
                         # a projected count is the numerator read back
                         "projected", "projection"))
        and c != "value_note"
    ]
    for column in figures:
        df[column] = df[column].astype(object)
        df.loc[hide, column] = None
    if "value_note" in df.columns or "value" in df.columns:
        df["value_note"] = df["value_note"] if "value_note" in df.columns else None
        df["value_note"] = df["value_note"].astype(object)
        df.loc[hide, "value_note"] = SUPPRESSED_NOTE
    return df


# ---- commentary ---------------------------------------------------------------------------------


def kpi_owners_path() -> Path:
    return AuthConfig.from_env().accounts_path.parent / KPI_OWNERS_FILE


def owner_roles_held(user: User, path: Path | None = None) -> set[str]:
    """The KPI owner roles (the catalogue's owner_role) a person holds, from kpi_owners.csv beside the
    accounts file (columns user_name, owner_role): data an administrator keeps, not code."""
    path = path or kpi_owners_path()
    if not path.exists():
        return set()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"user_name", "owner_role"} - set(reader.fieldnames or ())
        if missing:
            raise AccessDenied(f"{path}: the header lacks {', '.join(sorted(missing))}; tell the administrator.")
        return {
            (row["owner_role"] or "").strip()
            for row in reader
            if (row["user_name"] or "").strip().lower() == user.name.lower()
        }


def require_commentary(kpi_code: str, org_unit_id: str, month) -> User:
    """The acting user if it may write commentary on this KPI for this unit: the performance team on any,
    a manager on the KPIs whose owner role it holds, within its scope. Else AccessDenied saying why."""
    user = require(COMMENTARY)
    require_unit(org_unit_id, month)
    if user.role == "performance":
        return user
    owners = query("select owner_role from marts.dim_kpi where kpi_code = ?", [kpi_code])
    owner_role = str(owners.owner_role.iloc[0]) if len(owners) else None
    if owner_role is None or owner_role not in owner_roles_held(user):
        raise AccessDenied(
            f"{kpi_code} is owned by {owner_role or 'nobody'}; you ({user.name}) do not hold that role, "
            "so only its owner or the performance team can write its commentary."
        )
    return user
