"""Funnel plots for fair comparisons: each unit's rate against its denominator with the control limits
dbt computed (marts.rpt_kpi_funnel) and the limit curves along a grid of denominators
(marts.rpt_kpi_funnel_limits). Only reads: the limits and positions are dbt's.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from data_access import scope
from data_access.connection import query

# Order the levels are offered in: the organisation's, then geography's (district and ward, where
# the warehouse reports them); a level not listed here comes last.
LEVEL_ORDER = ["station", "group", "watch", "district", "ward"]


class Funnel(NamedTuple):
    """One funnel: ``points`` (a unit a row) and ``curves`` (the limits along the grid of denominators)."""

    points: pd.DataFrame
    curves: pd.DataFrame


def quarter_of(month) -> tuple[str, str] | None:
    """The financial year and quarter a month belongs to (marts.dim_date), for a page chosen by month."""
    df = query(
        "select financial_year, financial_quarter from marts.dim_date where month_start_date = ? limit 1", [month]
    )
    return (df.financial_year.iloc[0], df.financial_quarter.iloc[0]) if len(df) else None


def funnel_kpis(service_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
    """The rate and percentage KPIs with a funnel in the quarter, and the levels each is compared at."""
    scope.require_service(service_id)
    df = query(
        """
        select f.kpi_code, k.kpi_name, k.decimals, k.display_order, k.denominator_definition, f.unit, f.polarity,
               list(distinct f.org_level order by f.org_level) as org_levels,
               min(f.period_start_month) as period_start_month, max(f.period_end_month) as period_end_month
        from marts.rpt_kpi_funnel as f
        inner join marts.dim_kpi as k using (kpi_code)
        where f.service_id = $service and f.financial_year = $fy and f.financial_quarter = $q
        group by all
        order by k.display_order
        """,
        {"service": service_id, "fy": financial_year, "q": financial_quarter},
    )
    df["org_levels"] = df.org_levels.map(
        lambda levels: sorted(levels, key=lambda lv: (LEVEL_ORDER.index(lv) if lv in LEVEL_ORDER else 99, lv))
    )
    return df


def kpi_funnel(service_id: str, financial_year: str, financial_quarter: str, kpi_code: str, org_level: str) -> Funnel:
    """The funnel of one KPI at one level in a quarter. The points are the units the acting user may read
    (a viewer: a workforce KPI's small units are left out, as their counts are suppressed); the limits
    are around the whole level's rate either way."""
    scope.require_service(service_id)
    params = {"service": service_id, "fy": financial_year, "q": financial_quarter, "kpi": kpi_code, "level": org_level}
    where = (
        "service_id = $service and financial_year = $fy and financial_quarter = $q "
        "and kpi_code = $kpi and org_level = $level"
    )
    points = query(
        f"""
        select kpi_code, org_level, org_unit_id, org_unit_name, period_start_month, period_end_month, count_months,
               numerator, denominator, value, service_value, expected_numerator, count_units, limit_method,
               lower_limit_998, lower_limit_95, upper_limit_95, upper_limit_998, funnel_position, unit, polarity
        from marts.rpt_kpi_funnel
        where {where}
        order by denominator, org_unit_name
        """,
        params,
    )
    points = scope.suppress_for_viewer(scope.in_scope(points))
    points = points[points.value.notna()].reset_index(drop=True)
    curves = query(
        f"""
        select denominator, service_value, lower_limit_998, lower_limit_95, upper_limit_95, upper_limit_998
        from marts.rpt_kpi_funnel_limits
        where {where}
        order by step
        """,
        params,
    )
    return Funnel(points, curves)
