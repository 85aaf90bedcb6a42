"""Data-quality pages: the checks' marks on KPI values, and the audit of every Great Expectations run
(audit.dq_runs / dq_results / dq_record_flags, published with the marts).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data_access import scope
from data_access.connection import query, serving_path, table_columns, table_exists
from data_access.report_sql import ORGANISATION, monthly_rows


def kpi_dq_columns() -> list[str]:
    """The data-quality columns rpt_kpi_monthly carries in this publish (none in early versions)."""
    return [c for c in table_columns("marts", "rpt_kpi_monthly") if c in ("dq_status", "dq_note")]


def kpi_dq_flags(service_id: str, month) -> pd.DataFrame:
    """KPI values the pre-publish checks marked, when the marts carry dq_status / dq_note."""
    scope.require_service(service_id, month, scope.ASSURANCE)
    cols = kpi_dq_columns()
    if not cols:
        return pd.DataFrame(columns=["kpi_code", "org_unit_id", "org_unit_name", "value", *cols])
    filt = "dq_status is not null and dq_status not in ('pass', 'ok')" if "dq_status" in cols else "dq_note is not null"
    return query(
        f"""
        select kpi_code, org_unit_id, org_unit_name, org_level, value, {", ".join(cols)}
        from ({monthly_rows("service_id = $service and period_month = $month")}) as r
        where {filt} and {ORGANISATION.format(u="r")}
        order by kpi_code, org_unit_id
        """,
        {"service": service_id, "month": month},
    )


def dq_results(limit: int = 2000) -> pd.DataFrame | None:
    """audit.dq_results when the pipeline publishes it; None otherwise."""
    scope.require(scope.ASSURANCE)
    if not table_exists("audit", "dq_results"):
        return None
    cols = table_columns("audit", "dq_results")
    order = next((c for c in ("run_at", "checked_at", "created_at", "finished_at") if c in cols), None)
    return query(
        f"select * from audit.dq_results {'order by ' + order + ' desc' if order else ''} limit ?",
        [limit],
    )


def dq_runs_by_target() -> pd.DataFrame:
    """Latest status per suite target (raw table or mart suite), with how many runs it has had."""
    scope.require(scope.ASSURANCE)
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
    scope.require(scope.ASSURANCE)
    return query(
        """
        select finished_at, batch_label, success, blocking_failures, warnings, run_id
        from audit.dq_runs where target = ? order by finished_at desc limit 200
        """,
        [target],
    )


def dq_failing_expectations(limit: int = 500) -> pd.DataFrame:
    """Every expectation that failed in the latest run of each suite, with its failing sample."""
    scope.require(scope.ASSURANCE)
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
    scope.require(scope.ASSURANCE)
    if not table_exists("audit", "dq_record_flags"):
        return pd.DataFrame()
    flagged = query(
        """
        select target, expectation, column_name, severity, key, value, service_id,
               _source_file, _source_row, flagged_at
        from audit.dq_record_flags
        order by flagged_at desc, target, _source_file, _source_row
        limit ?
        """,
        [limit],
    )
    scope.record_view("records flagged by data-quality checks", len(flagged))
    return flagged


def dq_accuracy_by_station(service_id: str, month) -> pd.DataFrame:
    """DQ_ACCURACY_PCT for each station (the published KPI) beside its records by source system."""
    scope.require_service(service_id, month, scope.ASSURANCE)
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
