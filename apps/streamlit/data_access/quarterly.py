"""The quarterly review: a unit's KPIs for a quarter, the same quarter over five years, best practice
among stations, and the national benchmarks.
"""

from __future__ import annotations

import pandas as pd

from data_access import scope
from data_access.connection import query
from data_access.report_sql import KPI_COLUMNS, quarterly_rows


def quarterly_kpis(org_unit_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
    scope.require_unit(org_unit_id)
    return scope.suppress_for_viewer(query(
        f"""
        select r.*, {KPI_COLUMNS}
        from ({quarterly_rows("org_unit_id = $unit and financial_year = $fy and financial_quarter = $q")}) as r
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        order by r.priority_id, k.display_order
        """,
        {"unit": org_unit_id, "fy": financial_year, "q": financial_quarter},
    ))


def quarterly_five_year(org_unit_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
    """The same quarter in each of the last five years, from the mart's value_Ny_ago columns."""
    scope.require_unit(org_unit_id)
    return scope.suppress_for_viewer(query(
        f"""
        with r as ({quarterly_rows("org_unit_id = $unit and financial_year = $fy and financial_quarter = $q")}),
        long as (
            unpivot r on value_4y_ago, value_3y_ago, value_2y_ago, value_1y_ago, value
            into name years_ago value quarter_value
        )
        select kpi_code, org_level,
               case years_ago when 'value' then 0 else cast(regexp_extract(years_ago, '(\\d)', 1) as integer) end
                   as years_ago,
               quarter_value as value
        from long
        order by kpi_code, years_ago desc
        """,
        {"unit": org_unit_id, "fy": financial_year, "q": financial_quarter},
    ))


def quarterly_history(org_unit_id: str, kpi_code: str) -> pd.DataFrame:
    scope.require_unit(org_unit_id)
    return scope.suppress_for_viewer(query(
        f"""
        select kpi_code, org_level, numerator, denominator,
               financial_year, financial_quarter, financial_quarter_label, is_complete_quarter,
               value, target, rag_status
        from ({quarterly_rows("org_unit_id = $unit and kpi_code = $kpi")})
        order by financial_year, financial_quarter
        """,
        {"unit": org_unit_id, "kpi": kpi_code},
    ))


def best_practice(service_id: str, financial_year: str, financial_quarter: str, top_n: int = 3) -> pd.DataFrame:
    """Top stations per KPI in the direction of its polarity, beside the service value: the
    ranking is dbt's (marts.rpt_best_practice, at most three per KPI; a manager: the stations in its
    scope only)."""
    scope.require_service(service_id)
    df = query(
        f"""
        select best.kpi_code, best.org_unit_id, best.org_unit_name, best.value, best.target, best.rag_status,
               best.numerator, best.denominator, best.polarity, best.unit, best.best_practice_rank as rank,
               best.service_value, best.gap_to_service,
               {KPI_COLUMNS}
        from marts.rpt_best_practice as best
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = k.priority_id
        where best.service_id = $service and best.financial_year = $fy and best.financial_quarter = $q
          and best.best_practice_rank <= $top
        order by k.display_order, best.best_practice_rank
        """,
        {"service": service_id, "fy": financial_year, "q": financial_quarter, "top": top_n},
    )
    return scope.suppress_for_viewer(scope.in_scope(df))


def benchmarks(service_id: str) -> pd.DataFrame:
    scope.require_service(service_id)
    return query(
        """
        select source, comparator_type, comparator_name, financial_year, fire_type, count_incidents,
               total_response_minutes, call_handling_minutes, crew_turnout_minutes, drive_minutes,
               is_partial_year
        from marts.rpt_benchmarks
        where service_id = ?
        order by fire_type, comparator_type, financial_year
        """,
        [service_id],
    )
