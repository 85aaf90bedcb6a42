-- Incident KPIs at station x month: numerator and denominator, zeros where nothing happened.
-- Incidents with no station ground are observed at their service directly (no denominators:
-- those come from the stations' wards). The same KPIs at ward x month for the geography
-- hierarchy, with each ward's own denominators (the ward's rows roll up to its district only).
-- A KPI whose input column the service did not record at all that month (every value null) has a null numerator and denominator: "not recorded", never 0.
{%- set count_columns = incident_count_columns() %}
with spine as (
    select * from {{ ref('int_station_months') }}
),

counts as (
    select * from {{ ref('int_incidents_by_station_month') }}
),

ward_spine as (
    select * from {{ ref('int_ward_months') }}
),

-- Counts by the ward each record is reported under (an old code's successor; no or an unknown
-- ward: the service's UNALLOCATED ward).
ward_counts as (
    select
        coalesce(lookup.ward_unit_id, counts.service_id || '-WARD-UNALLOCATED') as ward_unit_id,
        counts.period_month,
        {%- for column in count_columns %}
        sum(counts.{{ column }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_incidents_by_ward_month') }} as counts
    left join {{ ref('int_ward_unit_lookup') }} as lookup on counts.ward_sk = lookup.ward_sk
    group by 1, 2
),

at_wards as (
    select
        ward_spine.ward_unit_id as org_unit_id,
        ward_spine.service_id,
        ward_spine.period_month,
        ward_spine.population,
        ward_spine.dwellings,
        ward_spine.non_domestic_properties,
        ward_spine.denominator_vintage,
        {%- for column in count_columns %}
        ward_counts.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from ward_spine
    left join ward_counts
        on ward_spine.ward_unit_id = ward_counts.ward_unit_id
        and ward_spine.period_month = ward_counts.period_month
),

recorded as (
    select
        service_id,
        period_month,
        sum(count_confined_recorded) > 0 as is_confined_recorded,
        sum(count_injuries_recorded) > 0 as is_injuries_recorded,
        sum(count_fatalities_recorded) > 0 as is_fatalities_recorded,
        sum(count_motive_recorded) > 0 as is_motive_recorded
    from counts
    group by service_id, period_month
),

at_stations as (
    select
        spine.station_sk as org_unit_id,
        spine.service_id,
        spine.period_month,
        spine.population,
        spine.dwellings,
        spine.non_domestic_properties,
        spine.denominator_vintage,
        {%- for column in count_columns %}
        counts.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from spine
    left join counts
        on spine.station_sk = counts.station_sk
        and spine.period_month = counts.period_month
),

-- No station ground, or a ground that is no station of the service that month (a service with
-- no station list): counted at the service, never dropped.
without_station as (
    select
        counts.service_id as org_unit_id,
        counts.service_id,
        counts.period_month,
        cast(null as double) as population,
        cast(null as double) as dwellings,
        cast(null as double) as non_domestic_properties,
        cast(null as varchar) as denominator_vintage,
        {%- for column in count_columns %}
        sum(counts.{{ column }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from counts
    left join spine
        on counts.station_sk = spine.station_sk
        and counts.period_month = spine.period_month
    where spine.station_sk is null
    group by counts.service_id, counts.period_month
),

joined as (
    select
        units.org_unit_id,
        units.service_id,
        units.period_month,
        units.population,
        units.dwellings,
        units.non_domestic_properties,
        units.denominator_vintage,
        coalesce(units.incidents, 0) as incidents,
        coalesce(units.primary_fires, 0) as primary_fires,
        coalesce(units.adfs, 0) as adfs,
        case when recorded.is_confined_recorded then coalesce(units.adfs_confined, 0) end as adfs_confined,
        case when recorded.is_confined_recorded then coalesce(units.adfs_confined_base, 0) end as adfs_confined_base,
        case when recorded.is_injuries_recorded then coalesce(units.adf_injuries, 0) end as adf_injuries,
        case when recorded.is_injuries_recorded then units.population end as adf_injuries_base,
        case when recorded.is_fatalities_recorded then coalesce(units.fire_deaths, 0) end as fire_deaths,
        coalesce(units.afa_non_domestic, 0) as afa_non_domestic,
        case when recorded.is_motive_recorded then coalesce(units.deliberate_primary, 0) end as deliberate_primary,
        case when recorded.is_motive_recorded then coalesce(units.deliberate_vehicle, 0) end as deliberate_vehicle,
        case when recorded.is_motive_recorded then units.population end as deliberate_base,
        coalesce(units.rtcs, 0) as rtcs
    from (
        select * from at_stations
        union all
        select * from without_station
        union all
        select * from at_wards
    ) as units
    left join recorded
        on units.service_id = recorded.service_id
        and units.period_month = recorded.period_month
),

final as (
    select 'INC_TOTAL' as kpi_code, org_unit_id, service_id, period_month, cast(incidents as double) as numerator, cast(null as double) as denominator, cast(null as varchar) as denominator_vintage from joined
    union all select 'PRI_FIRES_10K', org_unit_id, service_id, period_month, primary_fires, population, denominator_vintage from joined
    union all select 'ADF_10K_DWELL', org_unit_id, service_id, period_month, adfs, dwellings, denominator_vintage from joined
    union all select 'ADF_INJ_100K', org_unit_id, service_id, period_month, adf_injuries, adf_injuries_base, denominator_vintage from joined
    union all select 'FIRE_DEATHS', org_unit_id, service_id, period_month, fire_deaths, null, null from joined
    union all select 'ADF_CONFINED_PCT', org_unit_id, service_id, period_month, adfs_confined, adfs_confined_base, null from joined
    union all select 'AFA_1K_NONDOM', org_unit_id, service_id, period_month, afa_non_domestic, non_domestic_properties, denominator_vintage from joined
    union all select 'DELIB_PRI_10K', org_unit_id, service_id, period_month, deliberate_primary, deliberate_base, denominator_vintage from joined
    union all select 'DELIB_VEH_10K', org_unit_id, service_id, period_month, deliberate_vehicle, deliberate_base, denominator_vintage from joined
    union all select 'RTC_ATTENDED', org_unit_id, service_id, period_month, rtcs, null, null from joined
)

select * from final
