"""Suites on the KPI marts, run before publishing.

``mart_suites(as_of)`` returns four suites, each with the query that reads its frame from the warehouse:

* ``marts.rpt_kpi_monthly.values``: KPI values within plausible ranges for their unit (percent
  0..100, minutes 0..60, counts, rates and days not negative), numerators and denominators not
  negative, known units and one row per KPI, unit and month (blocking);
* ``marts.rpt_kpi_monthly.presence``: every KPI of ``marts.dim_kpi`` present at every level it
  declares (``lowest_level_rank`` up to service) for each service that reports it, for every unit
  that existed that month: in each month the KPI was observed, and for monthly KPIs also in the
  report month (blocking);
* ``marts.rpt_kpi_monthly.rollups``: for additive KPIs (summed numerators and denominators, with
  a station or watch grain) each group's and service's numerator and denominator equal the sum
  over its stations that month (``intermediate.int_org_unit_ancestry_monthly``), plus anything
  observed directly at that group or service (e.g. sickness of staff outside any station, or
  incidents with no station ground), within a relative 1e-6 (blocking);
* ``marts.rpt_kpi_monthly.targets``: a service-level target for the current financial year for
  every KPI with a polarity (not ``none``) that a service reports, for services reporting this
  year that set targets (warning).

``as_of`` is the reporting cut-off, as in dbt's ``as_of`` variable: months before its month are
complete, and the report month is the one before it.
"""

from __future__ import annotations

import datetime as dt

from expectations.suites.base import Check, Suite

# Plausible value ranges by KPI unit: (min, max); None leaves that side open.
UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "percent": (0, 100),
    "minutes": (0, 60),
    "count": (0, None),
    "rate": (0, None),
    "days": (0, None),
}
ROLLUP_TOLERANCE = 1e-6


def cutoff_month(as_of: dt.date) -> dt.date:
    """First day of ``as_of``'s month: rows before it are complete months."""
    return as_of.replace(day=1)


def report_month(as_of: dt.date) -> dt.date:
    return (cutoff_month(as_of) - dt.timedelta(days=1)).replace(day=1)


def financial_year(month: dt.date) -> str:
    """``2026-27`` for any month from April 2026 to March 2027 (the marts' spelling)."""
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _values_suite(cutoff: dt.date, invocation_id: str | None) -> Suite:
    scoped = invocation_id is not None
    query = f"""
        with {_scope_cte(scoped)} report as (
            select kpi_month_sk, kpi_code, org_unit_id, org_level, service_id, period_month, unit,
                   numerator, denominator, value, value_ytd
            from marts.rpt_kpi_monthly
            where period_month < $cutoff {_in_scope(scoped)}
        )
        select * from report
        """
    checks = [
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "unit", "value_set": sorted(UNIT_RANGES)},
            "blocking",
            "every KPI row has a unit whose plausible range is known",
        ),
        Check(
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": ["kpi_code", "org_unit_id", "period_month"]},
            "blocking",
            "one row per KPI, organisation unit and month",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "numerator", "min_value": 0},
            "blocking",
            "numerators are not negative",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "denominator", "min_value": 0},
            "blocking",
            "denominators are not negative",
        ),
    ]
    for unit, (lo, hi) in UNIT_RANGES.items():
        bounds = {k: v for k, v in (("min_value", lo), ("max_value", hi)) if v is not None}
        text = f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        for column in ("value", "value_ytd"):
            checks.append(
                Check(
                    "ExpectColumnValuesToBeBetween",
                    {"column": column, **bounds},
                    "blocking",
                    f"{column} of {unit} KPIs within the plausible range {text}",
                    where={"unit": unit},
                )
            )
    return Suite(
        name="marts.rpt_kpi_monthly.values",
        target="marts.rpt_kpi_monthly",
        checks=checks,
        key_columns=["kpi_code", "org_unit_id", "period_month"],
        query=query,
        params=_params(cutoff, invocation_id),
        order_by=("service_id", "kpi_code", "period_month", "org_unit_id"),
        chunk_by=("kpi_code",),  # a KPI has one unit: a chunk of few KPIs runs few of the per-unit checks
    )


def _presence_suite(cutoff: dt.date, invocation_id: str | None) -> Suite:
    scoped = invocation_id is not None
    query = f"""
        with {_scope_cte(scoped)} kpis as (
            select kpi_code, lowest_level_rank, frequency from marts.dim_kpi
        ),
        units as (
            -- The organisation hierarchy: districts and wards carry only the KPIs about places
            -- (their presence is dbt's test, tests/dbt/test_geography.py).
            select distinct org_unit_id, org_level, org_level_rank, service_id from marts.dim_org_unit
            where org_level not in ('district', 'ward')
        ),
        rpt as (
            select * from marts.rpt_kpi_monthly where period_month < $cutoff {_in_scope(scoped)}
        ),
        reported as (
            -- over every month: a KPI missing from all of the months a close rewrote is still expected
            select distinct service_id, kpi_code from marts.rpt_kpi_monthly where period_month < $cutoff
        ),
        observed as (
            select distinct o.service_id, o.kpi_code, o.period_month
            from marts.fct_kpi_observations as o
            inner join reported using (service_id, kpi_code)
            where o.period_month < $cutoff
        ),
        report_months as (
            select service_id, max(period_month) as period_month from observed group by service_id
        ),
        expected_months as (
            select * from (
                select service_id, kpi_code, period_month from observed
                union
                select reported.service_id, reported.kpi_code, report_months.period_month
                from reported
                inner join report_months using (service_id)
                inner join kpis using (kpi_code)
                where kpis.frequency = 'monthly'
            ) as m
            where true {_in_scope(scoped)}
        ),
        unit_months as (
            select distinct period_month, org_unit_id
            from intermediate.int_org_unit_ancestry_monthly
            where org_unit_id = ancestor_org_unit_id
        ),
        expected as (
            select m.service_id, m.kpi_code, units.org_level, m.period_month,
                   count(distinct units.org_unit_id) as units_expected
            from expected_months as m
            inner join kpis using (kpi_code)
            inner join units on units.service_id = m.service_id and units.org_level_rank >= kpis.lowest_level_rank
            inner join unit_months on unit_months.org_unit_id = units.org_unit_id
                and unit_months.period_month = m.period_month
            group by all
        ),
        present as (
            select service_id, kpi_code, org_level, period_month,
                   count(distinct org_unit_id) as units_present, count(*) as rows_present
            from rpt group by all
        )
        select expected.service_id, expected.kpi_code, expected.org_level, expected.period_month,
               expected.units_expected,
               coalesce(present.units_present, 0) as units_present,
               coalesce(present.rows_present, 0) as rows_present
        from expected
        left join present using (service_id, kpi_code, org_level, period_month)
        """
    checks = [
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "units_present", "min_value": 1},
            "blocking",
            "the KPI is present at every level it declares (lowest level up to service) in each month "
            "it is reported, and in the report month for monthly KPIs",
        ),
        Check(
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": "units_present", "column_B": "units_expected"},
            "blocking",
            "the KPI has a row for every organisation unit of the level that existed that month",
        ),
    ]
    return Suite(
        name="marts.rpt_kpi_monthly.presence",
        target="marts.rpt_kpi_monthly",
        checks=checks,
        key_columns=["service_id", "kpi_code", "org_level", "period_month"],
        query=query,
        params=_params(cutoff, invocation_id),
        order_by=("service_id", "kpi_code", "period_month", "org_level"),
    )


def _rollup_suite(cutoff: dt.date, invocation_id: str | None) -> Suite:
    scoped = invocation_id is not None
    query = f"""
        with {_scope_cte(scoped)} kpis as (
            select kpi_code from marts.dim_kpi
            where lowest_level_rank <= 2 and time_aggregation in ('sum', 'sum_over_mean')
        ),
        rpt as (
            select rpt.* from marts.rpt_kpi_monthly as rpt inner join kpis using (kpi_code)
            where rpt.period_month < $cutoff {_in_scope(scoped, 'rpt.')}
        ),
        from_stations as (
            select rpt.kpi_code, rpt.period_month, a.ancestor_org_unit_id as org_unit_id,
                   sum(coalesce(rpt.numerator, 0)) as numerator, sum(coalesce(rpt.denominator, 0)) as denominator,
                   count(*) as stations
            from rpt
            inner join intermediate.int_org_unit_ancestry_monthly as a
                on a.org_unit_id = rpt.org_unit_id and a.period_month = rpt.period_month
                and a.ancestor_level in ('group', 'service')
            where rpt.org_level = 'station'
            group by all
        ),
        direct as (
            select o.kpi_code, o.period_month, o.org_unit_id,
                   sum(coalesce(o.numerator, 0)) as numerator, sum(coalesce(o.denominator, 0)) as denominator
            from marts.fct_kpi_observations as o
            inner join kpis using (kpi_code)
            inner join (
                select distinct org_unit_id from marts.dim_org_unit where org_level in ('group', 'service')
            ) as parents using (org_unit_id)
            where o.period_month < $cutoff {_in_scope(scoped, 'o.')}
            group by all
        ),
        compared as (
            select rpt.kpi_code, rpt.org_unit_id, rpt.org_level, rpt.service_id, rpt.period_month,
                   coalesce(rpt.numerator, 0) as numerator,
                   coalesce(s.numerator, 0) + coalesce(d.numerator, 0) as numerator_from_stations,
                   coalesce(rpt.denominator, 0) as denominator,
                   coalesce(s.denominator, 0) + coalesce(d.denominator, 0) as denominator_from_stations,
                   coalesce(s.stations, 0) as stations
            from rpt
            left join from_stations as s using (kpi_code, period_month, org_unit_id)
            left join direct as d using (kpi_code, period_month, org_unit_id)
            where rpt.org_level in ('group', 'service')
        )
        select *,
               abs(numerator - numerator_from_stations) / greatest(1.0, abs(numerator_from_stations))
                   as numerator_gap,
               abs(denominator - denominator_from_stations) / greatest(1.0, abs(denominator_from_stations))
                   as denominator_gap
        from compared
        """
    checks = [
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": gap, "min_value": 0, "max_value": ROLLUP_TOLERANCE},
            "blocking",
            f"group and service {part} equal the sum over their stations that month (plus anything observed "
            f"directly at the group or service), within a relative {ROLLUP_TOLERANCE:g}",
        )
        for part, gap in (("numerators", "numerator_gap"), ("denominators", "denominator_gap"))
    ]
    return Suite(
        name="marts.rpt_kpi_monthly.rollups",
        target="marts.rpt_kpi_monthly",
        checks=checks,
        key_columns=["kpi_code", "org_unit_id", "period_month"],
        query=query,
        params=_params(cutoff, invocation_id),
        order_by=("service_id", "kpi_code", "period_month", "org_unit_id"),
    )


def _targets_suite(cutoff: dt.date, year: str) -> Suite:
    query = """
        with rpt as (
            select * from marts.rpt_kpi_monthly where period_month < $cutoff
        ),
        services as (
            -- services reporting in the year that set targets at all
            select service_id from rpt group by service_id
            having count(target) > 0 and count(*) filter (where financial_year = $year) > 0
        ),
        expected as (
            select distinct rpt.service_id, rpt.kpi_code
            from rpt
            inner join services using (service_id)
            inner join marts.dim_kpi as k using (kpi_code)
            where k.polarity <> 'none'
        ),
        service_rows as (
            select service_id, kpi_code, max(target) as service_target, count(*) as months_in_year
            from rpt
            where org_level = 'service' and financial_year = $year
            group by all
        )
        select expected.service_id, expected.kpi_code, $year as financial_year,
               service_rows.service_target, coalesce(service_rows.months_in_year, 0) as months_in_year
        from expected
        left join service_rows using (service_id, kpi_code)
        """
    checks = [
        Check(
            "ExpectColumnValuesToNotBeNull",
            {"column": "service_target"},
            "warning",
            f"a service-level target is set for {year} for every KPI with a polarity that the service reports",
        )
    ]
    return Suite(
        name="marts.rpt_kpi_monthly.targets",
        target="marts.rpt_kpi_monthly",
        checks=checks,
        key_columns=["service_id", "kpi_code"],
        query=query,
        params={"cutoff": cutoff, "year": year},
        order_by=("service_id", "kpi_code"),
    )


def _scope_cte(scoped: bool) -> str:
    """The CTE ``scope`` (followed by a comma), or nothing: the (service, month) groups a dbt build
    rewrote, those holding a report row it wrote and every month the KPI chain recomputed (so a
    group it emptied is still looked at)."""
    if not scoped:
        return ""
    return """scope as (
            select service_id, period_month from marts.rpt_kpi_monthly where _invocation_id = $invocation
            union
            select service_id, period_month from intermediate.int_kpi_months_to_recompute
        ),"""


def _in_scope(scoped: bool, alias: str = "") -> str:
    if not scoped:
        return ""
    return f"and ({alias}service_id, {alias}period_month) in (select service_id, period_month from scope)"


def _params(cutoff: dt.date, invocation_id: str | None) -> dict:
    return {"cutoff": cutoff} | ({"invocation": invocation_id} if invocation_id is not None else {})


def mart_suites(as_of: dt.date, invocation_id: str | None = None) -> list[Suite]:
    """The mart suites judged at the reporting cut-off ``as_of``; each reads its frame with its query
    (``expectations.suites.load_frame``, or ``read_chunks`` to hold only part of it at a time).

    With ``invocation_id`` (a monthly close: the incremental dbt build that is the only one since the
    last publication, ``orchestration.warehouse.incremental_invocation``), the values, presence and
    roll-up suites look only at the (service, month) groups that build rewrote: the rest were checked
    when they were written and have not changed since. The targets suite (the current financial year,
    a warning) always reads the whole report."""
    cutoff = cutoff_month(as_of)
    year = financial_year(report_month(as_of))
    return [
        _values_suite(cutoff, invocation_id),
        _presence_suite(cutoff, invocation_id),
        _rollup_suite(cutoff, invocation_id),
        _targets_suite(cutoff, year),
    ]


__all__ = ["ROLLUP_TOLERANCE", "UNIT_RANGES", "cutoff_month", "financial_year", "mart_suites", "report_month"]
