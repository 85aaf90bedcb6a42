"""The monthly reports: a unit's KPIs for a month, its children, a KPI's history, the station and
watch profile.
"""

from __future__ import annotations

import pandas as pd

from data_access import scope
from data_access.connection import query, table_columns
from data_access.report_sql import KPI_COLUMNS, ORGANISATION, VALID_AT, monthly_rows


def monthly_kpis(org_unit_id: str, month, history_months: int = 13) -> pd.DataFrame:
    """Every KPI reported for one unit and month, with its definition and a trend history.

    ``history`` is the list of monthly values from ``history_months - 1`` months before up to
    the month itself, read from the mart's own history rows.
    """
    # The auditor reads the value it traces to its records (the data-quality page), not the reports.
    scope.require_unit(org_unit_id, month, scope.REPORTS, scope.RECORDS)
    return scope.suppress_for_viewer(query(
        f"""
        with window_rows as (
            {
            monthly_rows(
                "org_unit_id = $unit and period_month between "
                "cast($month as date) - to_months($back) and cast($month as date)"
            )
        }
        ),
        history as (
            select kpi_code, list(value order by period_month) as history
            from window_rows group by kpi_code
        )
        select r.*, {KPI_COLUMNS}, h.history
        from window_rows as r
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        left join history as h using (kpi_code)
        where r.period_month = $month
        order by r.priority_id, k.display_order
        """,
        {"unit": org_unit_id, "month": month, "back": history_months - 1},
    ))


def child_unit_kpis(org_unit_id: str, month, kpi_code: str | None = None) -> pd.DataFrame:
    """The KPI rows of a unit's direct children (as the hierarchy stood that month) that the user may read."""
    scope.require_unit(org_unit_id, month)
    df = query(
        f"""
        with children as (
            select u.org_unit_id from marts.dim_org_unit as u
            inner join marts.dim_org_unit as parent
                on parent.org_unit_id = $unit and {VALID_AT.format(u="parent", m="$month")}
            where u.parent_org_unit_id = $unit and {VALID_AT.format(u="u", m="$month")}
                -- A service's children in its organisation; a district's, its wards.
                and (parent.org_level <> 'service' or {ORGANISATION.format(u="u")})
        ),
        rows as ({monthly_rows("period_month = $month and ($kpi is null or kpi_code = $kpi)")})
        select r.*, {KPI_COLUMNS}
        from rows as r
        inner join children using (org_unit_id)
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        order by k.display_order, r.org_unit_name
        """,
        {"unit": org_unit_id, "month": month, "kpi": kpi_code},
    )
    return scope.suppress_for_viewer(scope.in_scope(df, month))


def kpi_history(org_unit_id: str, kpi_code: str) -> pd.DataFrame:
    scope.require_unit(org_unit_id)
    return scope.suppress_for_viewer(query(
        f"""
        select kpi_code, org_level, numerator, denominator, period_month, value,
               target, rag_status, spc_centre_line, spc_lower_limit,
               spc_upper_limit, spc_signal
        from ({monthly_rows("org_unit_id = $unit and kpi_code = $kpi")})
        order by period_month
        """,
        {"unit": org_unit_id, "kpi": kpi_code},
    ))


def _value_note(alias: str) -> str:
    """The mart's reason for a missing value ('not recorded'...); null in publishes made before it."""
    if "value_note" in table_columns("marts", "rpt_kpi_monthly"):
        return f"{alias}.value_note"
    return "cast(null as varchar) as value_note"


def unit_profile(org_unit_id: str, month) -> pd.DataFrame:
    """Every KPI of one unit beside the same KPI for its parent and for the service."""
    scope.require_unit(org_unit_id, month)
    return scope.suppress_for_viewer(query(
        f"""
        with unit as (
            select * from marts.dim_org_unit as u
            where org_unit_id = $unit and {VALID_AT.format(u="u", m="$month")}
        ),
        rows as ({monthly_rows("period_month = $month and service_id = (select service_id from unit)")})
        select r.kpi_code, r.org_unit_id, r.org_unit_name, r.org_level, r.priority_id, r.period_month,
               r.numerator, r.denominator, r.value, {_value_note("r")}, r.target,
               r.rag_status, r.variance, r.value_ytd, r.target_ytd,
               r.rag_status_ytd,
               r.value_prior_ytd, r.value_same_month_last_year, r.direction_of_travel, r.spc_signal,
               r.unit, r.polarity, r.target_source,
               parent.org_unit_name as parent_name, parent.value as parent_value,
               parent.rag_status as parent_rag_status,
               service.value as service_value, service.rag_status as service_rag_status,
               {KPI_COLUMNS}
        from rows as r
        inner join unit on r.org_unit_id = unit.org_unit_id
        left join rows as parent
            on parent.kpi_code = r.kpi_code and parent.org_unit_id = unit.parent_org_unit_id
        left join rows as service
            on service.kpi_code = r.kpi_code and service.org_unit_id = unit.service_id
        inner join marts.dim_kpi as k on k.kpi_code = r.kpi_code
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        order by r.priority_id, k.display_order
        """,
        {"unit": org_unit_id, "month": month},
    ))


def unit_trend(org_unit_id: str, kpi_code: str, month, months_back: int = 12) -> pd.DataFrame:
    """One KPI over time for a unit, its parent and the service (long format, for a chart)."""
    scope.require_unit(org_unit_id, month)
    return scope.suppress_for_viewer(query(
        f"""
        with unit as (
            select * from marts.dim_org_unit as u
            where org_unit_id = $unit and {VALID_AT.format(u="u", m="$month")}
        ),
        rows as ({
            monthly_rows(
                "kpi_code = $kpi and period_month between "
                "cast($month as date) - to_months($back) and cast($month as date)"
            )
        })
        select r.kpi_code, r.period_month, r.org_unit_name, r.org_level, r.numerator, r.denominator,
               r.value, r.target
        from rows as r, unit
        where r.org_unit_id in (unit.org_unit_id, unit.parent_org_unit_id, unit.service_id)
        order by r.org_level, r.period_month
        """,
        {"unit": org_unit_id, "kpi": kpi_code, "month": month, "back": months_back},
    ))
