"""The geography hierarchy (service -> local authority district -> ward) on the demo build: its
counts add up to the service's for every KPI about places and every month, it holds those KPIs
only, with no RAG at ward level, and the organisation rows stay those of the organisation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.slow]


def q(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def warehouse(demo_pipeline: Path) -> Path:
    return demo_pipeline / "warehouse.duckdb"


# Each level's sums beside the service's, for every place KPI and month. Numerators always add
# up; denominators too, except a rate whose service denominator counts only the stations' wards
# (the same wards, so they add up as well). Compared to 1e-9 relative: sums of doubles.
LEVEL_SUMS = """
    with rows as (
        select r.* from marts.rpt_kpi_monthly as r
        inner join marts.dim_kpi as k using (kpi_code)
        where k.is_reported_by_place
    ),
    service as (
        select kpi_code, service_id, period_month, numerator, denominator from rows where org_level = 'service'
    ),
    levels as (
        select kpi_code, service_id, period_month, org_level,
               sum(numerator) as numerator, sum(denominator) as denominator, count(*) as units
        from rows where org_level in ('district', 'ward')
        group by all
    )
    select s.kpi_code, s.service_id, s.period_month, l.org_level, s.numerator, l.numerator,
           s.denominator, l.denominator, l.units
    from service as s
    left join levels as l using (kpi_code, service_id, period_month)
    where s.service_id in (select service_id from marts.dim_org_unit where hierarchy = 'geography')
"""


def _differs(a, b) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > 1e-9 * max(1.0, abs(a))


def test_districts_and_wards_add_up_to_the_service_for_every_place_kpi_and_month(warehouse):
    rows = q(warehouse, LEVEL_SUMS)
    assert rows, "no place KPI rows at service level for a service with wards"
    missing = [r[:3] for r in rows if r[3] is None]
    assert missing == [], f"service rows with no district or ward rows: {missing[:5]}"
    levels = {r[3] for r in rows}
    assert levels == {"district", "ward"}
    numerators = [r for r in rows if _differs(r[4], r[5])]
    assert numerators == [], f"numerators not adding up (kpi, service, month, level, service, sum): {numerators[:5]}"
    denominators = [r for r in rows if _differs(r[6], r[7])]
    assert denominators == [], f"denominators that do not add up: {denominators[:5]}"
    # And the test compared real figures, not zeros: incidents in the thousands over the months.
    assert sum(r[4] for r in rows if r[0] == "INC_TOTAL" and r[3] == "ward") > 10_000


def test_geography_rows_hold_the_place_kpis_only_with_no_rag_at_ward_level(warehouse):
    (not_place,) = q(warehouse, """
        select count(*) from marts.rpt_kpi_monthly as r inner join marts.dim_kpi as k using (kpi_code)
        where r.hierarchy = 'geography' and not k.is_reported_by_place
    """)[0]
    assert not_place == 0
    ((levels, hierarchy_ok, rag, rag_ytd, signals),) = q(warehouse, """
        select string_agg(distinct org_level, ',' order by org_level),
               bool_and((hierarchy = 'geography') = (org_level in ('district', 'ward'))),
               count(rag_status) filter (where org_level = 'ward'),
               count(rag_status_ytd) filter (where org_level = 'ward'),
               count(spc_signal) filter (where org_level = 'ward')
        from marts.rpt_kpi_monthly
    """)
    assert set(levels.split(",")) == {"district", "group", "service", "station", "ward", "watch"}
    assert hierarchy_ok
    assert (rag, rag_ytd) == (0, 0)
    assert signals > 0  # the SPC signal carries the assessment at ward level
    # Districts keep RAG against their cascaded targets.
    ((district_rag, district_targets),) = q(warehouse, """
        select count(rag_status), count(target) from marts.rpt_kpi_monthly where org_level = 'district'
    """)
    assert district_rag > 0 and district_targets > 0


def test_every_ward_record_is_reported_once_under_a_current_ward_or_unallocated(warehouse):
    """The UNALLOCATED ward exists for every service with wards, wards hang under districts under
    the service, and the quarterly report carries the same geography."""
    orphans = q(warehouse, """
        select w.org_unit_id from marts.dim_org_unit as w
        left join marts.dim_org_unit as d on d.org_unit_id = w.parent_org_unit_id and d.org_level = 'district'
        where w.org_level = 'ward' and (d.org_unit_id is null or d.parent_org_unit_id <> w.service_id)
    """)
    assert orphans == []
    services = {r[0] for r in q(warehouse, "select distinct service_id from marts.dim_geography")}
    unallocated = {r[0] for r in q(
        warehouse, "select service_id from marts.dim_org_unit where org_unit_id = service_id || '-WARD-UNALLOCATED'"
    )}
    assert services and services <= unallocated
    ((quarterly, quarterly_rag),) = q(
        warehouse, "select count(*), count(rag_status) from marts.rpt_kpi_quarterly where org_level = 'ward'"
    )
    assert quarterly > 0 and quarterly_rag == 0


def test_organisation_service_rows_are_the_sum_of_their_stations_not_of_their_wards(warehouse):
    """No double counting: the service's incidents are its stations' plus those with no station
    ground, exactly as before the geography existed."""
    rows = q(warehouse, """
        with stations as (
            select service_id, period_month, sum(numerator) as numerator from marts.rpt_kpi_monthly
            where kpi_code = 'INC_TOTAL' and org_level = 'station' group by all
        ),
        direct as (
            select service_id, period_month, sum(numerator) as numerator from marts.fct_kpi_observations
            where kpi_code = 'INC_TOTAL' and org_unit_id = service_id group by all
        )
        select s.service_id, s.period_month, s.numerator, coalesce(st.numerator, 0) + coalesce(d.numerator, 0)
        from marts.rpt_kpi_monthly as s
        left join stations as st using (service_id, period_month)
        left join direct as d using (service_id, period_month)
        where s.kpi_code = 'INC_TOTAL' and s.org_level = 'service'
    """)
    assert rows
    assert [r for r in rows if r[2] != r[3]] == []
