"""Every query the app runs, against serving.duckdb only, read-only, one connection per query.

A cached or long-lived connection would block the pipeline's publish (DuckDB file locks) and
would keep showing the old file after a publish, so each call opens and closes its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]


def serving_path() -> Path:
    data_dir = Path(os.environ.get("GT_DATA_DIR") or REPO_ROOT / "data")
    return data_dir / "serving.duckdb"


def query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    path = serving_path()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run `make pipeline` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        dates = [d[0] for d in cursor.description if str(d[1]) == "DATE"]
        df = cursor.df()
    finally:
        con.close()
    # DATE columns arrive as timestamps; keep them dates so tables show 2026-10-01, not midnight.
    for column in dates:
        if column in df.columns:
            df[column] = df[column].dt.date
    return df


def is_published() -> bool:
    return serving_path().exists()


def publish_info() -> dict:
    df = query("select run_id, as_of, published_at, tables_published from meta.publish_info")
    if not len(df):
        return {}
    return df.iloc[0].to_dict()


def ingestion_by_system() -> pd.DataFrame:
    return query(
        """
        select system,
               count(*) as files,
               sum(rows_received) as rows_received,
               sum(rows_loaded) as rows_loaded,
               sum(rows_quarantined) as rows_quarantined,
               count(*) filter (where status = 'refused') as files_refused,
               bool_and(rows_received = rows_loaded + rows_quarantined) as reconciles,
               max(finished_at) as last_loaded_at
        from audit.ingestion_log
        group by system
        order by system
        """
    )


def ingestion_files(system: str | None = None) -> pd.DataFrame:
    return query(
        """
        select batch_id, system, entity, service_id, file_name, period, revision, encoding,
               rows_received, rows_loaded, rows_quarantined, status, message, warnings,
               started_at, finished_at
        from audit.ingestion_log
        where ? is null or system = ?
        order by batch_id desc
        """,
        [system, system],
    )


def quarantine_sample(system: str | None = None, limit: int = 500) -> pd.DataFrame:
    return query(
        """
        select system, entity, service_id, file_name, row_number, reason, raw_text
        from audit.quarantine
        where ? is null or system = ?
        order by file_name, row_number
        limit ?
        """,
        [system, system, limit],
    )


def quarantine_reasons(system: str | None = None) -> pd.DataFrame:
    # The reason's leading clause ("column x: ...") groups like faults together.
    return query(
        """
        select system, split_part(reason, ':', 1) as rule, count(*) as rows
        from audit.quarantine
        where ? is null or system = ?
        group by all
        order by rows desc
        """,
        [system, system],
    )


# --------------------------------------------------------------------------------------------
# Reports. The marts hold every KPI figure (value, target, RAG, variance, YTD, direction, SPC);
# the queries below only select, join and order them for display.
# --------------------------------------------------------------------------------------------


# One row per key: dbt's unique tests on kpi_month_sk / kpi_quarter_sk fail the build (and so
# the publish) if a report row is ever duplicated.
def _monthly(where: str) -> str:
    return f"select * from marts.rpt_kpi_monthly where {where}"


def _quarterly(where: str) -> str:
    return f"select * from marts.rpt_kpi_quarterly where {where}"


# A unit belongs to the hierarchy as it stood in the reported month (stations move group).
_VALID_AT = "{u}.valid_from <= {m} and ({u}.valid_to is null or {u}.valid_to >= {m})"

_KPI_COLUMNS = """
    k.kpi_name, k.definition, k.scope, k.numerator_definition, k.denominator_definition, k.multiplier,
    k.tolerance_pct, k.owner_role, k.decimals, k.display_order, k.is_small_count_spc,
    k.frequency, p.priority_name
"""


def table_exists(schema: str, table: str) -> bool:
    df = query(
        "select count(*) as n from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    )
    return bool(df.n.iloc[0])


def table_columns(schema: str, table: str) -> list[str]:
    df = query(
        """
        select column_name from information_schema.columns
        where table_schema = ? and table_name = ? order by ordinal_position
        """,
        [schema, table],
    )
    return df.column_name.tolist()


def services() -> pd.DataFrame:
    return query(
        """
        select org_unit_id as service_id, org_unit_name as service_name
        from marts.dim_org_unit
        where org_level = 'service' and is_current
        order by service_id
        """
    )


def kpi_catalogue() -> pd.DataFrame:
    return query(
        """
        select k.*, p.priority_name
        from marts.dim_kpi as k
        left join marts.dim_priority as p using (priority_id)
        order by k.display_order
        """
    )


# ---- periods --------------------------------------------------------------------------------


def months(service_id: str) -> list:
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
    """The latest month before the as-of month: the as-of month itself is incomplete."""
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
    return query(
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


# ---- organisation ---------------------------------------------------------------------------


def org_units(service_id: str, month) -> pd.DataFrame:
    """Every unit of a service as the hierarchy stood in that month."""
    return query(
        f"""
        select org_unit_id, parent_org_unit_id, org_level, org_level_rank, org_unit_name,
               watch_name, duty_system
        from marts.dim_org_unit as u
        where service_id = $service and {_VALID_AT.format(u="u", m="$month")}
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
            where org_unit_id = $unit and {_VALID_AT.format(u="u", m="$month")}
            union all
            select u.org_unit_id, u.parent_org_unit_id, u.org_level, u.org_level_rank, u.org_unit_name
            from marts.dim_org_unit as u
            inner join path on u.org_unit_id = path.parent_org_unit_id
            where {_VALID_AT.format(u="u", m="$month")}
        )
        select * from path order by org_level_rank desc
        """,
        {"unit": org_unit_id, "month": month},
    )


_DESCENDANTS = f"""
    with recursive tree as (
        select org_unit_id, org_level from marts.dim_org_unit as u
        where org_unit_id = $unit and {_VALID_AT.format(u="u", m="$month")}
        union all
        select u.org_unit_id, u.org_level from marts.dim_org_unit as u
        inner join tree on u.parent_org_unit_id = tree.org_unit_id
        where {_VALID_AT.format(u="u", m="$month")}
    )
"""


# ---- monthly snapshot -----------------------------------------------------------------------


def monthly_kpis(org_unit_id: str, month, history_months: int = 13) -> pd.DataFrame:
    """Every KPI reported for one unit and month, with its definition and a trend history.

    ``history`` is the list of monthly values from ``history_months - 1`` months before up to
    the month itself, read from the mart's own history rows.
    """
    return query(
        f"""
        with window_rows as (
            {
            _monthly(
                "org_unit_id = $unit and period_month between "
                "cast($month as date) - to_months($back) and cast($month as date)"
            )
        }
        ),
        history as (
            select kpi_code, list(value order by period_month) as history
            from window_rows group by kpi_code
        )
        select r.*, {_KPI_COLUMNS}, h.history
        from window_rows as r
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        left join history as h using (kpi_code)
        where r.period_month = $month
        order by r.priority_id, k.display_order
        """,
        {"unit": org_unit_id, "month": month, "back": history_months - 1},
    )


def child_unit_kpis(org_unit_id: str, month, kpi_code: str | None = None) -> pd.DataFrame:
    """The KPI rows of a unit's direct children (as the hierarchy stood that month)."""
    return query(
        f"""
        with children as (
            select org_unit_id from marts.dim_org_unit as u
            where parent_org_unit_id = $unit and {_VALID_AT.format(u="u", m="$month")}
        ),
        rows as ({_monthly("period_month = $month and ($kpi is null or kpi_code = $kpi)")})
        select r.*, {_KPI_COLUMNS}
        from rows as r
        inner join children using (org_unit_id)
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        order by k.display_order, r.org_unit_name
        """,
        {"unit": org_unit_id, "month": month, "kpi": kpi_code},
    )


def kpi_history(org_unit_id: str, kpi_code: str) -> pd.DataFrame:
    return query(
        f"""
        select period_month, value, target, rag_status, spc_centre_line, spc_lower_limit,
               spc_upper_limit, spc_signal
        from ({_monthly("org_unit_id = $unit and kpi_code = $kpi")})
        order by period_month
        """,
        {"unit": org_unit_id, "kpi": kpi_code},
    )


# ---- station and watch profile --------------------------------------------------------------


def _value_note(alias: str) -> str:
    """The mart's reason for a missing value ('not recorded'...); null in publishes made before it."""
    if "value_note" in table_columns("marts", "rpt_kpi_monthly"):
        return f"{alias}.value_note"
    return "cast(null as varchar) as value_note"


def unit_profile(org_unit_id: str, month) -> pd.DataFrame:
    """Every KPI of one unit beside the same KPI for its parent and for the service."""
    return query(
        f"""
        with unit as (
            select * from marts.dim_org_unit as u
            where org_unit_id = $unit and {_VALID_AT.format(u="u", m="$month")}
        ),
        rows as ({_monthly("period_month = $month and service_id = (select service_id from unit)")})
        select r.kpi_code, r.org_unit_id, r.org_unit_name, r.org_level, r.priority_id, r.period_month,
               r.value, {_value_note("r")}, r.target, r.rag_status, r.variance, r.value_ytd, r.target_ytd,
               r.rag_status_ytd,
               r.value_prior_ytd, r.value_same_month_last_year, r.direction_of_travel, r.spc_signal,
               r.unit, r.polarity, r.target_source,
               parent.org_unit_name as parent_name, parent.value as parent_value,
               parent.rag_status as parent_rag_status,
               service.value as service_value, service.rag_status as service_rag_status,
               {_KPI_COLUMNS}
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
    )


def unit_trend(org_unit_id: str, kpi_code: str, month, months_back: int = 12) -> pd.DataFrame:
    """One KPI over time for a unit, its parent and the service (long format, for a chart)."""
    return query(
        f"""
        with unit as (
            select * from marts.dim_org_unit as u
            where org_unit_id = $unit and {_VALID_AT.format(u="u", m="$month")}
        ),
        rows as ({
            _monthly(
                "kpi_code = $kpi and period_month between "
                "cast($month as date) - to_months($back) and cast($month as date)"
            )
        })
        select r.period_month, r.org_unit_name, r.org_level, r.value, r.target
        from rows as r, unit
        where r.org_unit_id in (unit.org_unit_id, unit.parent_org_unit_id, unit.service_id)
        order by r.org_level, r.period_month
        """,
        {"unit": org_unit_id, "kpi": kpi_code, "month": month, "back": months_back},
    )


# ---- quarterly review -----------------------------------------------------------------------


def quarterly_kpis(org_unit_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
    return query(
        f"""
        select r.*, {_KPI_COLUMNS}
        from ({_quarterly("org_unit_id = $unit and financial_year = $fy and financial_quarter = $q")}) as r
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        order by r.priority_id, k.display_order
        """,
        {"unit": org_unit_id, "fy": financial_year, "q": financial_quarter},
    )


def quarterly_five_year(org_unit_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
    """The same quarter in each of the last five years, from the mart's value_Ny_ago columns."""
    return query(
        f"""
        with r as ({_quarterly("org_unit_id = $unit and financial_year = $fy and financial_quarter = $q")}),
        long as (
            unpivot r on value_4y_ago, value_3y_ago, value_2y_ago, value_1y_ago, value
            into name years_ago value quarter_value
        )
        select kpi_code,
               case years_ago when 'value' then 0 else cast(regexp_extract(years_ago, '(\\d)', 1) as integer) end
                   as years_ago,
               quarter_value as value
        from long
        order by kpi_code, years_ago desc
        """,
        {"unit": org_unit_id, "fy": financial_year, "q": financial_quarter},
    )


def quarterly_history(org_unit_id: str, kpi_code: str) -> pd.DataFrame:
    return query(
        f"""
        select financial_year, financial_quarter, financial_quarter_label, is_complete_quarter,
               value, target, rag_status
        from ({_quarterly("org_unit_id = $unit and kpi_code = $kpi")})
        order by financial_year, financial_quarter
        """,
        {"unit": org_unit_id, "kpi": kpi_code},
    )


def best_practice(service_id: str, financial_year: str, financial_quarter: str, top_n: int = 3) -> pd.DataFrame:
    """Top stations per KPI by value in the direction of its polarity, beside the service value."""
    return query(
        f"""
        with rows as ({_quarterly("service_id = $service and financial_year = $fy and financial_quarter = $q")}),
        service as (select kpi_code, value as service_value from rows where org_level = 'service'),
        names as (select org_unit_id, max(org_unit_name) as org_unit_name from marts.dim_org_unit group by 1),
        ranked as (
            select r.kpi_code, r.org_unit_id, names.org_unit_name, r.value, r.target, r.rag_status,
                   r.numerator, r.denominator, r.polarity, r.unit,
                   row_number() over (
                       partition by r.kpi_code
                       order by case when r.polarity = 'up' then r.value else -r.value end desc,
                                names.org_unit_name
                   ) as rank
            from rows as r
            left join names using (org_unit_id)
            inner join marts.dim_kpi as kpi on kpi.kpi_code = r.kpi_code and not kpi.is_small_count_spc
            where r.org_level = 'station' and r.value is not null and r.polarity in ('up', 'down')
        )
        select ranked.*, service.service_value, ranked.value - service.service_value as gap_to_service,
               {_KPI_COLUMNS}
        from ranked
        left join service using (kpi_code)
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = k.priority_id
        where ranked.rank <= $top
        order by k.display_order, ranked.rank
        """,
        {"service": service_id, "fy": financial_year, "q": financial_quarter, "top": top_n},
    )


def benchmarks(service_id: str) -> pd.DataFrame:
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


def plan_activities(service_id: str, financial_year: str, financial_quarter: str) -> pd.DataFrame:
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


# ---- golden thread --------------------------------------------------------------------------


def golden_thread(service_id: str) -> pd.DataFrame:
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


# ---- data quality and lineage ---------------------------------------------------------------


def kpi_dq_columns() -> list[str]:
    """The data-quality columns rpt_kpi_monthly carries in this publish (none in early versions)."""
    return [c for c in table_columns("marts", "rpt_kpi_monthly") if c in ("dq_status", "dq_note")]


def kpi_dq_flags(service_id: str, month) -> pd.DataFrame:
    """KPI values the pre-publish checks marked, when the marts carry dq_status / dq_note."""
    cols = kpi_dq_columns()
    if not cols:
        return pd.DataFrame(columns=["kpi_code", "org_unit_id", "org_unit_name", "value", *cols])
    filt = "dq_status is not null and dq_status not in ('pass', 'ok')" if "dq_status" in cols else "dq_note is not null"
    return query(
        f"""
        select kpi_code, org_unit_id, org_unit_name, org_level, value, {", ".join(cols)}
        from ({_monthly("service_id = $service and period_month = $month")})
        where {filt}
        order by kpi_code, org_unit_id
        """,
        {"service": service_id, "month": month},
    )


def dq_results(limit: int = 2000) -> pd.DataFrame | None:
    """audit.dq_results when the pipeline publishes it; None otherwise."""
    if not table_exists("audit", "dq_results"):
        return None
    cols = table_columns("audit", "dq_results")
    order = next((c for c in ("run_at", "checked_at", "created_at", "finished_at") if c in cols), None)
    return query(
        f"select * from audit.dq_results {'order by ' + order + ' desc' if order else ''} limit ?",
        [limit],
    )


def kpi_observations(kpi_code: str, org_unit_id: str, month) -> pd.DataFrame:
    """The lowest-grain numerators and denominators the unit's KPI value was built from."""
    return query(
        f"""
        {_DESCENDANTS}
        select o.org_unit_id, u.org_unit_name, tree.org_level, o.period_month, o.numerator,
               o.denominator, o.denominator_vintage
        from marts.fct_kpi_observations as o
        inner join tree using (org_unit_id)
        left join marts.dim_org_unit as u
            on u.org_unit_id = o.org_unit_id and {_VALID_AT.format(u="u", m="$month")}
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
            {_DESCENDANTS}
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
    return records


def kpi_lineage_check(kpi_code: str, org_unit_id: str, month) -> pd.DataFrame:
    """The unit's published numerator and denominator beside the totals of the lowest-grain
    observations under it: an auditor's check that the roll-up adds up."""
    return query(
        f"""
        {_DESCENDANTS},
        published as ({_monthly("kpi_code = $kpi and org_unit_id = $unit and period_month = $month")}),
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


# ----------------------------------------------------------------------------- data-quality audit
# The quality gates record every Great Expectations run in audit.dq_runs / dq_results /
# dq_record_flags; the pipeline publishes them with the marts.


def dq_runs_by_target() -> pd.DataFrame:
    """Latest status per suite target (raw table or mart suite), with how many runs it has had."""
    if not table_exists("audit", "dq_runs"):
        return pd.DataFrame()
    return query(
        """
        select target, suite,
               arg_max(success, finished_at) as latest_success,
               arg_max(blocking_failures, finished_at) as latest_blocking_failures,
               arg_max(warnings, finished_at) as latest_warnings,
               arg_max(batch_label, finished_at) as latest_batch,
               max(finished_at) as latest_run_at,
               count(*) as runs,
               count(*) filter (where not success) as runs_failed
        from audit.dq_runs
        group by target, suite
        order by latest_success, target
        """
    )


def dq_run_history(target: str) -> pd.DataFrame:
    return query(
        """
        select finished_at, batch_label, success, blocking_failures, warnings, run_id
        from audit.dq_runs where target = ? order by finished_at desc limit 200
        """,
        [target],
    )


def dq_failing_expectations(limit: int = 500) -> pd.DataFrame:
    """Every expectation that failed in the latest run of each suite, with its failing sample."""
    if not table_exists("audit", "dq_results"):
        return pd.DataFrame()
    return query(
        """
        with latest as (
            select suite, max(finished_at) as finished_at from audit.dq_runs group by suite
        )
        select r.suite, r.target, r.expectation, r.column_name, r.severity, r.element_count,
               r.unexpected_count, round(r.unexpected_percent, 3) as unexpected_percent, r.sample, r.description
        from audit.dq_results r
        join audit.dq_runs runs on runs.validation_id = r.validation_id
        join latest on latest.suite = runs.suite and latest.finished_at = runs.finished_at
        where not r.success
        order by r.severity, r.unexpected_count desc
        limit ?
        """,
        [limit],
    )


def dq_flagged_records(limit: int = 2000) -> pd.DataFrame:
    """Records a check failed, with the expectation, severity and the line of the file it came from."""
    if not table_exists("audit", "dq_record_flags"):
        return pd.DataFrame()
    return query(
        """
        select target, expectation, column_name, severity, key, value, service_id,
               _source_file, _source_row, flagged_at
        from audit.dq_record_flags
        order by flagged_at desc, target, _source_file, _source_row
        limit ?
        """,
        [limit],
    )


def dq_accuracy_by_station(service_id: str, month) -> pd.DataFrame:
    """DQ_ACCURACY_PCT for each station (the published KPI) beside its records by source system."""
    if not table_exists("marts", "fct_dq_accuracy"):
        return pd.DataFrame()
    return query(
        """
        select k.org_unit_id, k.org_unit_name, round(k.value, 2) as dq_accuracy_pct, k.rag_status,
               k.numerator as records_passing, k.denominator as records_received,
               string_agg(
                   a.system || ': ' || cast(a.count_passing as varchar) || '/' || cast(a.count_received as varchar),
                   '; ' order by a.system
               ) as by_system
        from marts.rpt_kpi_monthly k
        left join marts.fct_dq_accuracy a
          on a.org_unit_id = k.org_unit_id and a.period_month = k.period_month
        where k.kpi_code = 'DQ_ACCURACY_PCT' and k.org_level = 'station'
          and k.service_id = ? and k.period_month = ?
        group by all
        order by dq_accuracy_pct nulls last, k.org_unit_id
        """,
        [service_id, month],
    )


def data_docs_index() -> Path | None:
    """Great Expectations Data Docs written beside the serving database, if any."""
    index = serving_path().parent / "docs" / "index.html"
    return index if index.exists() else None
