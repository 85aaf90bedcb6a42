"""The named datasets that may be shared: each one an aggregate query over the serving marts.

Rules every dataset follows (and ``check_dataset`` / ``check_extract`` enforce):

* it reads ``marts.*`` in the published, read-only ``serving.duckdb`` only;
* it returns one row per cell of a complete grid (slice × row × column, zeros included) and
  never a record about an incident, a visit or a person. No row-level keys (``*_sk``,
  ``incident_id``), no staff identifiers or names, no free text, no exact timestamps;
* it declares its count columns and the two dimensions its totals run over (``TableSpec``),
  which is what disclosure control needs;
* it declares its geographic level. Everything here is below national level, so disclosure
  control always applies. ``public_release`` marks datasets cleared for open publication.

Queries take ``$service_id``, ``$start_month`` and ``$end_month`` (first days of months,
inclusive): each extract covers the last twelve complete months, because partners need recent
trends, not the service's whole history (data minimisation).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from orchestration.sharing.disclosure import ROW_TOTAL, Ratio, TableSpec

LEVELS = ("ward", "lad", "station", "service", "national")

# Column names that would mean personal or row-level data has crept in. Labels of places and
# organisations (ward_name, station_name) are fine; the names and keys of people and records are not.
FORBIDDEN_COLUMN = re.compile(
    r"(_sk$|^_|(^|_)(staff|employee|person|personnel|member|casualty|patient|occupier|resident)_?(id|key|no|number|name|ref)"
    r"|(^|_)(first|last|sur|fore|full|given|family)_?name|^name$|postcode|address|uprn|date_of_birth|(^|_)dob$"
    r"|nhs_number|ni_number|incident_id|visit_id|case_id|call_at|_at$|notes?$|comment|free_?text|description)"
)

MONTHS = """
    months as (
        select unnest(generate_series($start_month::date, $end_month::date, interval 1 month))::date as period_month
    )"""
# Current wards only; a record under a ward that a boundary review replaced counts in its successor
# (dim_geography.current_ward_sk follows the chain), so no ward is published twice.
WARDS = """
    wards as (
        select ward_sk, ward_code, ward_name, lad_code, lad_name from marts.dim_geography
        where service_id = $service_id and is_current_ward
    ),
    ward_map as (
        select ward_sk as recorded_ward_sk, current_ward_sk from marts.dim_geography where service_id = $service_id
    )"""

# Station-level KPIs the PFCC sees: operational counts and percentages of counts. People KPIs
# (women firefighters, ethnic-minority staff, sickness, competence) are left out: at station level
# they describe a handful of identifiable staff and include special category data.
PFCC_KPIS = (
    "INC_TOTAL", "RTC_ATTENDED", "FIRE_DEATHS", "HFSV_DONE", "FSA_DONE", "SAFEGUARD_REFS",
    "RESP_STD_MET_PCT", "ADF_CONFINED_PCT", "HFSV_HIGH_RISK_PCT", "FSA_UNSAT_PCT",
)


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    description: str
    sql: str
    layout: TableSpec
    level: str
    public_release: bool = False

    @property
    def disclosure_exempt(self) -> bool:
        """Only national-level (England) figures skip suppression and rounding."""
        return self.level == "national"

    def query(
        self, con: duckdb.DuckDBPyConnection, service_id: str, start_month: dt.date, end_month: dt.date
    ) -> pd.DataFrame:
        params = {"service_id": service_id, "start_month": start_month, "end_month": end_month}
        used = set(re.findall(r"\$(\w+)", self.sql))
        return con.execute(self.sql, {k: v for k, v in params.items() if k in used}).df()


def check_columns(columns: list[str] | tuple[str, ...], where: str) -> None:
    bad = [c for c in columns if FORBIDDEN_COLUMN.search(c.lower())]
    if bad:
        raise ValueError(f"{where}: columns {bad} look like personal or row-level data")


def check_dataset(dataset: Dataset) -> None:
    """Static checks on a registry entry (run at import, so a bad entry never reaches a partner)."""
    if dataset.level not in LEVELS:
        raise ValueError(f"{dataset.name}: level {dataset.level!r} not in {LEVELS}")
    sql = " ".join(dataset.sql.lower().split())
    if "group by" not in sql:
        raise ValueError(f"{dataset.name}: the query must aggregate (group by)")
    schemas = set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\.", sql))
    if schemas - {"marts"}:
        raise ValueError(f"{dataset.name}: reads {sorted(schemas - {'marts'})}; only the serving marts may be shared")
    check_columns(dataset.layout.output_columns, dataset.name)


def check_extract(frame: pd.DataFrame, dataset: Dataset) -> None:
    """Run-time checks on what is about to be written."""
    if list(frame.columns) != dataset.layout.output_columns:
        raise ValueError(f"{dataset.name}: columns {list(frame.columns)} differ from the declared layout")
    check_columns(list(frame.columns), dataset.name)
    if frame.duplicated(dataset.layout.key_columns).any():
        raise ValueError(f"{dataset.name}: more than one row per cell")


INCIDENTS_BY_WARD_MONTH = Dataset(
    name="incidents_by_ward_month",
    title="Incidents attended by ward, month and incident category",
    description=(
        "Count of incidents attended in each ward each month, by category (primary, secondary and chimney fires, "
        "false alarms, special services). Incidents without a recorded ward are not included."
    ),
    level="ward",
    layout=TableSpec(
        slice_dims=("incident_category",), row_dim="ward_code", row_labels=("ward_name", "lad_code", "lad_name"),
        col_dim="period_month", count_columns=("incidents",),
    ),
    sql=f"""
    with {MONTHS}, {WARDS},
    categories as (select distinct incident_category from marts.fct_incidents where service_id = $service_id),
    counts as (
        select ward_map.current_ward_sk as ward_sk, period_month, incident_category, count(*) as incidents
        from marts.fct_incidents
        join ward_map on ward_map.recorded_ward_sk = fct_incidents.ward_sk
        where service_id = $service_id and period_month between $start_month and $end_month
        group by ward_map.current_ward_sk, period_month, incident_category
    )
    select c.incident_category, w.ward_code, w.ward_name, w.lad_code, w.lad_name, m.period_month,
           coalesce(n.incidents, 0) as incidents
    from categories c cross join wards w cross join months m
    left join counts n
        on n.ward_sk = w.ward_sk and n.period_month = m.period_month and n.incident_category = c.incident_category
    """,
)

DELIBERATE_FIRES_BY_WARD_MONTH = Dataset(
    name="deliberate_fires_by_ward_month",
    title="Deliberate fires by ward, month and fire type",
    description=(
        "Fires with a deliberate motive in each ward each month: primary fires excluding vehicles, "
        "vehicle fires, and secondary fires. Counts only; no addresses, times or incident references."
    ),
    level="ward",
    layout=TableSpec(
        slice_dims=("fire_type",), row_dim="ward_code", row_labels=("ward_name", "lad_code", "lad_name"),
        col_dim="period_month", count_columns=("deliberate_fires",),
    ),
    sql=f"""
    with {MONTHS}, {WARDS},
    fire_types as (
        select unnest(['deliberate_primary_excl_vehicle', 'deliberate_vehicle', 'deliberate_secondary']) as fire_type
    ),
    classified as (
        select ward_map.current_ward_sk as ward_sk, period_month,
               case
                   when is_deliberate_primary_excl_vehicle then 'deliberate_primary_excl_vehicle'
                   when is_deliberate_vehicle_fire then 'deliberate_vehicle'
                   when incident_category = 'secondary_fire' and motive = 'deliberate' then 'deliberate_secondary'
               end as fire_type
        from marts.fct_incidents
        join ward_map on ward_map.recorded_ward_sk = fct_incidents.ward_sk
        where service_id = $service_id and period_month between $start_month and $end_month
    ),
    counts as (
        select ward_sk, period_month, fire_type, count(*) as deliberate_fires
        from classified where fire_type is not null
        group by ward_sk, period_month, fire_type
    )
    select f.fire_type, w.ward_code, w.ward_name, w.lad_code, w.lad_name, m.period_month,
           coalesce(n.deliberate_fires, 0) as deliberate_fires
    from fire_types f cross join wards w cross join months m
    left join counts n on n.ward_sk = w.ward_sk and n.period_month = m.period_month and n.fire_type = f.fire_type
    """,
)

RTC_CASUALTIES_BY_LAD_MONTH = Dataset(
    name="rtc_casualties_by_lad_month",
    title="Road traffic collisions attended and casualties by local authority district and month",
    description=(
        "Road traffic collisions attended, people injured (excluding precautionary checks), fatalities and "
        "people rescued, by local authority district and month. Collisions without a recorded ward are not included."
    ),
    level="lad",
    layout=TableSpec(
        row_dim="lad_code", row_labels=("lad_name",), col_dim="period_month",
        count_columns=("rtcs_attended", "casualties_injured", "fatalities", "people_rescued"),
    ),
    sql=f"""
    with {MONTHS},
    lads as (select distinct lad_code, lad_name from marts.dim_geography where service_id = $service_id),
    counts as (
        select g.lad_code, i.period_month,
               count(*) as rtcs_attended,
               sum(coalesce(i.count_injuries_excl_precautionary, 0)) as casualties_injured,
               sum(coalesce(i.count_fatalities, 0)) as fatalities,
               sum(coalesce(i.count_rescues, 0)) as people_rescued
        from marts.fct_incidents i
        join marts.dim_geography g on g.ward_sk = i.ward_sk
        where i.service_id = $service_id and i.is_rtc and i.period_month between $start_month and $end_month
        group by g.lad_code, i.period_month
    )
    select l.lad_code, l.lad_name, m.period_month,
           coalesce(n.rtcs_attended, 0) as rtcs_attended,
           coalesce(n.casualties_injured, 0) as casualties_injured,
           coalesce(n.fatalities, 0) as fatalities,
           coalesce(n.people_rescued, 0) as people_rescued
    from lads l cross join months m
    left join counts n on n.lad_code = l.lad_code and n.period_month = m.period_month
    """,
)

HFSV_BY_WARD_MONTH = Dataset(
    name="hfsv_by_ward_month",
    title="Home fire safety (Safe and Well) visits by ward and month",
    description=(
        "Home fire safety visits completed in each ward each month, visits to households assessed as high risk, "
        "and the high-risk percentage (from the rounded figures). No household details."
    ),
    level="ward",
    layout=TableSpec(
        row_dim="ward_code", row_labels=("ward_name", "lad_code", "lad_name"), col_dim="period_month",
        count_columns=("visits", "high_risk_visits"),
        ratios=(Ratio("high_risk_pct", "high_risk_visits", "visits"),),
    ),
    sql=f"""
    with {MONTHS}, {WARDS},
    counts as (
        select ward_map.current_ward_sk as ward_sk, period_month, count(*) as visits,
               count(*) filter (where is_high_risk) as high_risk_visits
        from marts.fct_home_fire_safety_visits
        join ward_map on ward_map.recorded_ward_sk = fct_home_fire_safety_visits.ward_sk
        where service_id = $service_id and period_month between $start_month and $end_month
        group by ward_map.current_ward_sk, period_month
    )
    select w.ward_code, w.ward_name, w.lad_code, w.lad_name, m.period_month,
           coalesce(n.visits, 0) as visits, coalesce(n.high_risk_visits, 0) as high_risk_visits
    from wards w cross join months m
    left join counts n on n.ward_sk = w.ward_sk and n.period_month = m.period_month
    """,
)

_kpi_list = ", ".join(f"'{code}'" for code in PFCC_KPIS)
KPI_MONTHLY_BY_STATION = Dataset(
    name="kpi_monthly_by_station",
    title="Operational KPIs by station and month",
    description=(
        "Numerator and denominator of each operational KPI by station and month. For percentage KPIs, value is "
        "numerator / denominator × 100 computed from the rounded figures; for count KPIs the numerator is the value. "
        f"KPIs: {', '.join(PFCC_KPIS)}."
    ),
    level="station",
    layout=TableSpec(
        slice_dims=("kpi_code",), slice_labels=("kpi_name", "unit"), row_dim="station_code",
        row_labels=("station_name",), col_dim="period_month", count_columns=("numerator", "denominator"),
        ratios=(Ratio("value", "numerator", "denominator"),),
    ),
    sql=f"""
    with {MONTHS},
    kpis as (select kpi_code, kpi_name, unit from marts.dim_kpi where kpi_code in ({_kpi_list})),
    stations as (
        select org_unit_id as station_code, max(org_unit_name) as station_name
        from marts.dim_org_unit
        where service_id = $service_id and org_level = 'station'
          and valid_from <= $end_month and (valid_to is null or valid_to >= $start_month)
        group by org_unit_id
    ),
    observed as (
        select kpi_code, org_unit_id, period_month, sum(numerator) as numerator, sum(denominator) as denominator
        from marts.rpt_kpi_monthly
        where service_id = $service_id and org_level = 'station' and period_month between $start_month and $end_month
        group by kpi_code, org_unit_id, period_month
    ),
    -- A KPI the service did not record in some month of the period (null numerator: the mart's
    -- 'not recorded') is left empty for the whole period: never published as 0, and a grid is
    -- either all figures or none for the disclosure control.
    not_recorded as (
        select distinct kpi_code from marts.rpt_kpi_monthly
        where service_id = $service_id and org_level = 'station' and period_month between $start_month and $end_month
          and numerator is null
    )
    select k.kpi_code, k.kpi_name, k.unit, s.station_code, s.station_name, m.period_month,
           case when k.kpi_code not in (select kpi_code from not_recorded) then coalesce(o.numerator, 0) end
               as numerator,
           -- counts have no denominator (left empty); a percentage with no cases has 0
           case when k.unit = 'percent' and k.kpi_code not in (select kpi_code from not_recorded)
               then coalesce(o.denominator, 0) end as denominator
    from kpis k cross join stations s cross join months m
    left join observed o
        on o.kpi_code = k.kpi_code and o.org_unit_id = s.station_code and o.period_month = m.period_month
    """,
)

# The same operational KPIs by ward, from the geography hierarchy of the KPI marts (the place
# KPIs only: safeguarding referrals are about people, not places). Ward cells are small, so the
# disclosure control applies as to every table below national level.
PFCC_WARD_KPIS = tuple(code for code in PFCC_KPIS if code != "SAFEGUARD_REFS")
_ward_kpi_list = ", ".join(f"'{code}'" for code in PFCC_WARD_KPIS)
KPI_MONTHLY_BY_WARD = Dataset(
    name="kpi_monthly_by_ward",
    title="Operational KPIs by ward and month",
    description=(
        "Numerator and denominator of each operational KPI about places by ward and month (records under a ward "
        "that a boundary review replaced count in its successor; records with no known ward are the row "
        "UNALLOCATED). For percentage KPIs, value is numerator / denominator × 100 computed from the rounded "
        f"figures; for count KPIs the numerator is the value. KPIs: {', '.join(PFCC_WARD_KPIS)}."
    ),
    level="ward",
    layout=TableSpec(
        slice_dims=("kpi_code",), slice_labels=("kpi_name", "unit"), row_dim="ward_code",
        row_labels=("ward_name", "lad_code", "lad_name"), col_dim="period_month",
        count_columns=("numerator", "denominator"),
        ratios=(Ratio("value", "numerator", "denominator"),),
    ),
    sql=f"""
    with {MONTHS},
    kpis as (select kpi_code, kpi_name, unit from marts.dim_kpi where kpi_code in ({_ward_kpi_list})),
    wards as (
        select w.org_unit_id, replace(w.org_unit_id, $service_id || '-WARD-', '') as ward_code,
               max(w.org_unit_name) as ward_name,
               replace(max(d.org_unit_id), $service_id || '-LAD-', '') as lad_code, max(d.org_unit_name) as lad_name
        from marts.dim_org_unit w
        join marts.dim_org_unit d on d.org_unit_id = w.parent_org_unit_id
        where w.service_id = $service_id and w.org_level = 'ward'
        group by w.org_unit_id
    ),
    observed as (
        select kpi_code, org_unit_id, period_month, sum(numerator) as numerator, sum(denominator) as denominator
        from marts.rpt_kpi_monthly
        where service_id = $service_id and org_level = 'ward' and period_month between $start_month and $end_month
        group by kpi_code, org_unit_id, period_month
    ),
    -- As by station: a KPI not recorded in some month of the period is left empty for the whole period.
    not_recorded as (
        select distinct kpi_code from marts.rpt_kpi_monthly
        where service_id = $service_id and org_level = 'ward' and period_month between $start_month and $end_month
          and numerator is null
    )
    select k.kpi_code, k.kpi_name, k.unit, w.ward_code, w.ward_name, w.lad_code, w.lad_name, m.period_month,
           case when k.kpi_code not in (select kpi_code from not_recorded) then coalesce(o.numerator, 0) end
               as numerator,
           case when k.unit = 'percent' and k.kpi_code not in (select kpi_code from not_recorded)
               then coalesce(o.denominator, 0) end as denominator
    from kpis k cross join wards w cross join months m
    left join observed o
        on o.kpi_code = k.kpi_code and o.org_unit_id = w.org_unit_id and o.period_month = m.period_month
    """,
)

WORKFORCE_DIVERSITY_BY_STATION = Dataset(
    name="workforce_diversity_by_station",
    title="Workforce diversity by station (gender and ethnicity)",
    description=(
        "Staff in post at the end of the latest month, by station, once by gender and once by ethnicity, with each "
        "group's share of the station's staff (from the rounded figures). Control, support and headquarters "
        "staff are one service-wide row. Special category data: published only with disclosure control."
    ),
    level="station",
    public_release=True,
    layout=TableSpec(
        slice_dims=("characteristic",), slice_labels=("period_month",), row_dim="station_code",
        row_labels=("station_name",), col_dim="category", count_columns=("staff",),
        ratios=(Ratio("pct_of_station", "staff", ROW_TOTAL),),
        # both slices count the same people, so their station totals are the same numbers
        linked_row_totals=True,
    ),
    sql="""
    with snapshot as (
        select max(period_month) as month from marts.fct_workforce_monthly
        where service_id = $service_id and period_month <= $end_month
    ),
    units as (
        select o.org_unit_id, o.parent_org_unit_id, o.org_level, o.org_unit_name
        from marts.dim_org_unit o, snapshot s
        where o.service_id = $service_id and o.valid_from <= s.month and (o.valid_to is null or o.valid_to >= s.month)
    ),
    stations as (
        select org_unit_id as station_code, org_unit_name as station_name from units where org_level = 'station'
        union all
        select $service_id, 'Service-wide: control, support and headquarters'
    ),
    staff as (
        -- a watch counts at its station; anything not under a current station counts service-wide
        select coalesce(st.org_unit_id, $service_id) as station_code, w.gender, w.ethnicity, w.count_staff
        from marts.fct_workforce_monthly w
        join snapshot s on w.period_month = s.month
        left join units u on u.org_unit_id = w.org_unit_id
        left join units st on st.org_level = 'station'
            and st.org_unit_id = case when u.org_level = 'watch' then u.parent_org_unit_id else u.org_unit_id end
        where w.service_id = $service_id
    ),
    by_characteristic as (
        select station_code, 'gender' as characteristic, coalesce(gender, 'not_stated') as category, count_staff
        from staff
        union all
        select station_code, 'ethnicity', coalesce(ethnicity, 'not_stated'), count_staff from staff
    ),
    categories as (
        select distinct 'gender' as characteristic, coalesce(gender, 'not_stated') as category
        from marts.fct_workforce_monthly where service_id = $service_id
        union
        select distinct 'ethnicity', coalesce(ethnicity, 'not_stated')
        from marts.fct_workforce_monthly where service_id = $service_id
    )
    select c.characteristic, s.month as period_month, st.station_code, st.station_name, c.category,
           coalesce(sum(b.count_staff), 0) as staff
    from categories c cross join stations st cross join snapshot s
    left join by_characteristic b
        on b.station_code = st.station_code and b.characteristic = c.characteristic and b.category = c.category
    group by c.characteristic, s.month, st.station_code, st.station_name, c.category
    """,
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        INCIDENTS_BY_WARD_MONTH,
        DELIBERATE_FIRES_BY_WARD_MONTH,
        RTC_CASUALTIES_BY_LAD_MONTH,
        HFSV_BY_WARD_MONTH,
        KPI_MONTHLY_BY_STATION,
        KPI_MONTHLY_BY_WARD,
        WORKFORCE_DIVERSITY_BY_STATION,
    )
}
for _dataset in DATASETS.values():
    check_dataset(_dataset)
