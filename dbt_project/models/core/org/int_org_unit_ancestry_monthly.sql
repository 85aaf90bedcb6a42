{{ config(
    materialized='incremental',
    unique_key=['period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- For each month, every organisation unit with itself and each of its ancestors as they were
-- that month, and every ward with itself and its district (the station version valid on the first of the month decides its group).
-- Roll-ups join facts to this and sum numerators and denominators per ancestor.
-- Incremental by comparison: only months whose hierarchy changed are rewritten, and the KPI
-- chain recomputes every service from the first of them.
with units as (
    select * from {{ ref('dim_org_unit') }}
),

months as (
    select * from {{ ref('int_reporting_months') }}
),

station_months as (
    select
        months.period_month,
        units.org_unit_id as station_unit_id,
        units.parent_org_unit_id as group_unit_id,
        units.service_id
    from months
    inner join units
        on units.org_level = 'station'
        and months.period_month >= units.valid_from
        and (units.valid_to is null or months.period_month < units.valid_to)
),

-- Every service in every month from its start, with or without stations that month.
service_months as (
    select months.period_month, units.org_unit_id as service_id
    from months
    inner join units
        on units.org_level = 'service'
        and months.period_month >= units.valid_from
        and (units.valid_to is null or months.period_month < units.valid_to)
),

watch_months as (
    select
        station_months.period_month,
        watches.org_unit_id as watch_unit_id,
        station_months.station_unit_id,
        station_months.group_unit_id,
        station_months.service_id
    from station_months
    inner join units as watches
        on watches.org_level = 'watch'
        and station_months.station_unit_id = watches.parent_org_unit_id
),

-- The geography hierarchy: each ward with itself and its district. Not to the service: the
-- service's figures are those of the organisation hierarchy, so nothing is counted twice.
ward_months as (
    select
        months.period_month,
        units.org_unit_id as ward_unit_id,
        units.parent_org_unit_id as district_unit_id
    from months
    inner join units
        on units.org_level = 'ward'
        and months.period_month >= units.valid_from
        and (units.valid_to is null or months.period_month < units.valid_to)
),

pairs as (
    select period_month, watch_unit_id as org_unit_id, watch_unit_id as ancestor_org_unit_id, 'watch' as ancestor_level from watch_months
    union all select period_month, watch_unit_id, station_unit_id, 'station' from watch_months
    union all select period_month, watch_unit_id, group_unit_id, 'group' from watch_months
    union all select period_month, watch_unit_id, service_id, 'service' from watch_months
    union all select period_month, station_unit_id, station_unit_id, 'station' from station_months
    union all select period_month, station_unit_id, group_unit_id, 'group' from station_months
    union all select period_month, station_unit_id, service_id, 'service' from station_months
    union all select distinct period_month, group_unit_id, group_unit_id, 'group' from station_months
    union all select distinct period_month, group_unit_id, service_id, 'service' from station_months
    union all select distinct period_month, service_id, service_id, 'service' from service_months
    union all select period_month, ward_unit_id, ward_unit_id, 'ward' from ward_months
    union all select period_month, ward_unit_id, district_unit_id, 'district' from ward_months
    union all select distinct period_month, district_unit_id, district_unit_id, 'district' from ward_months
),

final as (
    select
        period_month,
        org_unit_id,
        ancestor_org_unit_id,
        ancestor_level
    from pairs
)

select
    *,
    '{{ invocation_id }}' as _invocation_id
from final
{{ changed_groups_only('final', ['period_month']) }}
