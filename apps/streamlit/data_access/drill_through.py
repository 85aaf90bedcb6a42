"""From a published KPI value down to what it was built from: the lowest-grain observations, the
fact records dbt marks as counted, and the auditor's check that the roll-up adds up.
"""

from __future__ import annotations

import re

import pandas as pd

from data_access import scope
from data_access.connection import query, table_columns
from data_access.report_sql import DESCENDANTS, VALID_AT, monthly_rows


def kpi_observations(kpi_code: str, org_unit_id: str, month) -> pd.DataFrame:
    """The lowest-grain numerators and denominators the unit's KPI value was built from."""
    scope.require_unit(org_unit_id, month, scope.RECORDS)
    return query(
        f"""
        {DESCENDANTS}
        select o.org_unit_id, u.org_unit_name, tree.org_level, o.period_month, o.numerator,
               o.denominator, o.denominator_vintage
        from marts.fct_kpi_observations as o
        inner join tree using (org_unit_id)
        left join marts.dim_org_unit as u
            on u.org_unit_id = o.org_unit_id and {VALID_AT.format(u="u", m="$month")}
        where o.kpi_code = $kpi and o.period_month = $month
        order by o.org_unit_id
        """,
        {"kpi": kpi_code, "unit": org_unit_id, "month": month},
    )


# Which fact records each KPI counts is dbt's rule, stated once: each record-level fact marks the
# records every KPI counts in a column ``is_counted_for_<kpi code>`` (true: counted; false: in the
# KPI's scope but excluded, exclusion_reason says why; null: outside it), and the KPI models count
# those marks (dbt_project/models/core/operations/fct_*.sql). The app lists what they mark. Below
# is only how each fact is laid out: where it places a record in the hierarchy (no station: the
# service), how to order it and which columns to show (None: all of them).
_RECORD_LAYOUT: dict[str, tuple[str, str, list[str] | None]] = {
    "fct_incidents": (
        "coalesce(f.station_sk, f.service_id)",
        "f.call_at",
        [
            "incident_id", "station_sk", "call_at", "incident_category", "incident_type", "property_category",
            "property_type", "motive", "count_injuries_excl_precautionary", "count_fatalities", "count_appliances",
            "is_confined_to_room", "_source_file", "_source_row",
        ],
    ),
    "fct_incident_response": (
        "coalesce(f.station_sk, f.service_id)",
        "f.incident_sk",
        [
            "incident_sk", "station_sk", "incident_category", "incident_type", "property_category",
            "response_source", "call_handling_seconds", "turnout_seconds", "drive_seconds",
            "total_response_seconds", "exclusion_reason", "_batch_id",
        ],
    ),
    "fct_home_fire_safety_visits": ("f.org_unit_id", "f.visit_date", None),
    "fct_fire_safety_audits": ("f.org_unit_id", "f.audit_date", None),
    "fct_oncall_availability": ("f.station_sk", "f.availability_date", None),
    "fct_safeguarding_referrals": ("f.station_sk", "f.referral_date", None),
}


def kpi_selection_column(kpi_code: str) -> str | None:
    """The column a fact marks a KPI's records in; None for a code that is no plain identifier."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", kpi_code or ""):
        return None
    return f"is_counted_for_{kpi_code.lower()}"


def kpi_record_source(kpi_code: str) -> str | None:
    """The published fact whose records the KPI counts (the one marking them), or None when the
    KPI is built from monthly aggregates rather than records."""
    column = kpi_selection_column(kpi_code)
    if column is None:
        return None
    found = query(
        """
        select table_name from information_schema.columns
        where table_schema = 'marts' and column_name = ? order by table_name
        """,
        [column],
    )
    return f"marts.{found.table_name.iloc[0]}" if len(found) else None


def kpi_source_records(kpi_code: str, org_unit_id: str, month, limit: int = 5000) -> dict[str, pd.DataFrame]:
    """The fact records behind one KPI value: ``included`` and, for a fact that gives exclusion
    reasons, ``excluded`` (in the KPI's scope, not counted). Empty dict when the KPI has no
    record-level fact."""
    scope.require_unit(org_unit_id, month, scope.RECORDS)
    source = kpi_record_source(kpi_code)
    if source is None:
        return {}
    table = source.split(".", 1)[1]
    columns = table_columns("marts", table)
    unit, order, listed = _RECORD_LAYOUT.get(table) or (
        "f.org_unit_id" if "org_unit_id" in columns else "f.station_sk",
        "f.period_month",
        None,
    )
    shown = ", ".join(f"f.{c}" for c in listed if c in columns) if listed else "f.*"
    column = f"f.{kpi_selection_column(kpi_code)}"
    params = {"unit": org_unit_id, "month": month, "limit": limit}

    def marked(selected: str) -> pd.DataFrame:
        return query(
            f"""
            {DESCENDANTS}
            select {shown} from {source} as f
            inner join tree on tree.org_unit_id = {unit}
            where f.period_month = $month and {selected}
            order by {order}
            limit $limit
            """,
            params,
        )

    records = {"included": marked(column)}
    if "exclusion_reason" in columns:
        records["excluded"] = marked(f"not {column}")
    shown_rows = sum(len(r) for r in records.values())
    scope.record_view(f"{source} records of {kpi_code} for {org_unit_id} in {str(month)[:7]}", shown_rows)
    return records


def kpi_lineage_check(kpi_code: str, org_unit_id: str, month) -> pd.DataFrame:
    """The unit's published numerator and denominator beside the totals of the lowest-grain
    observations under it: an auditor's check that the roll-up adds up."""
    scope.require_unit(org_unit_id, month, scope.RECORDS)
    return query(
        f"""
        {DESCENDANTS},
        published as ({monthly_rows("kpi_code = $kpi and org_unit_id = $unit and period_month = $month")}),
        observed as (
            select count(*) as observations, sum(o.numerator) as observed_numerator,
                   sum(o.denominator) as observed_denominator
            from marts.fct_kpi_observations as o
            inner join tree using (org_unit_id)
            where o.kpi_code = $kpi and o.period_month = $month
        )
        select p.value, p.numerator as published_numerator, p.denominator as published_denominator,
               o.observations, o.observed_numerator, o.observed_denominator,
               coalesce(abs(p.numerator - o.observed_numerator) < 1e-6,
                        p.numerator is null and o.observed_numerator is null) as numerator_matches,
               coalesce(abs(p.denominator - o.observed_denominator) < 1e-6,
                        p.denominator is null and coalesce(o.observed_denominator, 0) = 0)
                   as denominator_matches
        from published as p, observed as o
        """,
        {"kpi": kpi_code, "unit": org_unit_id, "month": month},
    )
