"""The Annual Plan side: activities and their status, deep-dive actions, and the golden thread from
priorities to KPIs and activities.
"""

from __future__ import annotations

import pandas as pd

from data_access import scope
from data_access.connection import query


def plan_activities(service_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
    scope.require_service(service_id)
    return query(
        """
        select a.activity_id, a.title, a.priority_id, p.priority_name, a.labels,
               coalesce(a.is_hmicfrs_area_for_improvement, false) as is_hmicfrs_area_for_improvement,
               a.directorate, a.owner_role, a.status,
               coalesce(a.is_on_track_or_complete, false) as is_on_track_or_complete,
               coalesce(a.is_overdue, false) as is_overdue,
               a.due_date, a.is_rolled_over, a.definition_of_done, a.commentary, a.updated_date
        from marts.fct_plan_activity_status as a
        left join marts.dim_priority as p using (priority_id)
        where a.service_id = ? and a.financial_year = ? and a.financial_quarter = ?
        order by a.priority_id, a.activity_id
        """,
        [service_id, financial_year, financial_quarter],
    )


def deep_dive_actions(service_id: str) -> pd.DataFrame:
    scope.require_service(service_id)
    return query(
        """
        select action_number, deep_dive, area_for_review, contact_role, update_due_date, notes,
               status, coalesce(is_overdue, false) as is_overdue
        from marts.fct_deep_dive_actions
        where service_id = ?
        order by action_number
        """,
        [service_id],
    )


def golden_thread(service_id: str) -> pd.DataFrame:
    scope.require_service(service_id)
    return query(
        """
        select g.priority_id, g.priority_name, g.element_type, g.element_id, g.element_name,
               g.owner_role, g.latest_period, g.latest_value, g.latest_target, g.status,
               g.gap_type, g.is_gap, k.unit, k.polarity, k.decimals
        from marts.rpt_golden_thread as g
        left join marts.dim_kpi as k
            on g.element_type = 'kpi' and k.kpi_code = g.element_id
        where g.service_id = ?
        order by g.priority_id,
                 case g.element_type when 'gap' then 0 when 'activity' then 1 else 2 end,
                 k.display_order, g.element_id
        """,
        [service_id],
    )
