"""What the pickers offer: services, the KPI catalogue, the units of a service, and the months and
quarters reported.
"""

from __future__ import annotations

import pandas as pd

from data_access import approvals, scope
from data_access.connection import query
from data_access.report_sql import ORGANISATION, VALID_AT


def services() -> pd.DataFrame:
    """The services the signed-in person may pick (a viewer or manager: its own)."""
    df = query(
        """
        select org_unit_id as service_id, org_unit_name as service_name
        from marts.dim_org_unit
        where org_level = 'service' and is_current
        order by service_id
        """
    )
    allowed = scope.readable_services() if scope.acting_user() is not None else set()
    return df if allowed is None else df[df.service_id.isin(allowed)].reset_index(drop=True)


def kpi_catalogue() -> pd.DataFrame:
    return query(
        """
        select k.*, p.priority_name
        from marts.dim_kpi as k
        left join marts.dim_priority as p using (priority_id)
        order by k.display_order
        """
    )


def org_units(service_id: str, month) -> pd.DataFrame:
    """Every organisation unit of a service as the hierarchy stood in that month (no districts or wards)."""
    return query(
        f"""
        select org_unit_id, parent_org_unit_id, org_level, org_level_rank, org_unit_name,
               watch_name, duty_system
        from marts.dim_org_unit as u
        where service_id = $service and {VALID_AT.format(u="u", m="$month")}
            and {ORGANISATION.format(u="u")}
        order by org_level_rank desc, org_unit_name
        """,
        {"service": service_id, "month": month},
    )


def unit_path(org_unit_id: str, month) -> pd.DataFrame:
    """The unit and its ancestors, service first."""
    return query(
        f"""
        with recursive path as (
            select org_unit_id, parent_org_unit_id, org_level, org_level_rank, org_unit_name
            from marts.dim_org_unit as u
            where org_unit_id = $unit and {VALID_AT.format(u="u", m="$month")}
            union all
            select u.org_unit_id, u.parent_org_unit_id, u.org_level, u.org_level_rank, u.org_unit_name
            from marts.dim_org_unit as u
            inner join path on u.org_unit_id = path.parent_org_unit_id
            where {VALID_AT.format(u="u", m="$month")}
        )
        select * from path order by org_level_rank desc
        """,
        {"unit": org_unit_id, "month": month},
    )


def months(service_id: str) -> list:
    """The months of the service's reports, newest first; for a viewer, only the approved ones."""
    if scope.reads_approved_only():
        return approvals.approved_months(service_id)
    df = query(
        """
        select distinct period_month from marts.rpt_kpi_monthly
        where service_id = ? and org_level = 'service'
        order by period_month desc
        """,
        [service_id],
    )
    return df.period_month.tolist()


def default_month(service_id: str):
    """The latest month before the as-of month: the as-of month itself is incomplete. For a viewer, the
    latest approved month."""
    if scope.reads_approved_only():
        return approvals.latest_approved_month(service_id)
    df = query(
        """
        select max(r.period_month) as period_month
        from marts.rpt_kpi_monthly as r, meta.publish_info as p
        where r.service_id = ? and r.org_level = 'service'
          and r.period_month < date_trunc('month', p.as_of)
        """,
        [service_id],
    )
    value = df.period_month.iloc[0] if len(df) else None
    if value is None or pd.isna(value):
        all_months = months(service_id)
        return all_months[0] if all_months else None
    return value


def quarters(service_id: str) -> pd.DataFrame:
    """The service's quarters, newest first; for a viewer, only those whose every month is approved."""
    df = query(
        """
        select financial_year, financial_quarter, any_value(financial_quarter_label) as label,
               bool_and(is_complete_quarter) as is_complete_quarter,
               min(quarter_start_month) as quarter_start_month
        from marts.rpt_kpi_quarterly
        where service_id = ? and org_level = 'service'
        group by all
        order by financial_year desc, financial_quarter desc
        """,
        [service_id],
    )
    if not scope.reads_approved_only() or df.empty:
        return df
    # Every quarter's months in one query (the calendar's), not one query per quarter.
    months = query(
        """
        select financial_year, financial_quarter, list(distinct month_start_date) as months
        from marts.dim_date group by all
        """
    )
    months_of = {(r.financial_year, r.financial_quarter): r.months for r in months.itertuples()}
    approved = set(approvals.approved_months(service_id))
    whole = [
        all(pd.Timestamp(m).date() in approved for m in months_of.get((row.financial_year, row.financial_quarter), []))
        for row in df.itertuples()
    ]
    return df[whole].reset_index(drop=True)


def default_quarter(service_id: str) -> tuple[str, str] | None:
    df = quarters(service_id)
    complete = df[df.is_complete_quarter]
    row = (complete if len(complete) else df).head(1)
    return (row.financial_year.iloc[0], row.financial_quarter.iloc[0]) if len(row) else None


def quarter_months(financial_year: str, financial_quarter: str) -> list:
    df = query(
        """
        select distinct month_start_date from marts.dim_date
        where financial_year = ? and financial_quarter = ?
        order by 1
        """,
        [financial_year, financial_quarter],
    )
    return df.month_start_date.tolist()
