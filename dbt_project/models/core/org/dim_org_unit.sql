-- The organisation hierarchy service -> group -> station -> watch with history: a station
-- that moves group has one row per version (valid_from inclusive, valid_to exclusive).
-- Beside it the geography hierarchy service -> local authority district -> ward (hierarchy
-- 'geography'), for the KPIs about places; the service is the root of both.
with stations as (
    select * from {{ ref('stg_reference__stations') }}
),

services as (
    select * from {{ ref('services') }}
),

-- A service that sends incidents but no station list still reports at service level: its
-- unit starts with its first incident month.
services_without_stations as (
    select incidents.service_id, min(incidents.call_month) as valid_from
    from {{ ref('stg_irs__incidents') }} as incidents
    where incidents.service_id not in (select stations.service_id from stations)
    group by incidents.service_id
),

watch_slots as (
    select 1 as slot union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7
),

service_units as (
    select
        stations.service_id as org_unit_id,
        'service' as org_level,
        cast(null as varchar) as parent_org_unit_id,
        stations.service_id,
        coalesce(max(services.service_name), stations.service_id) as org_unit_name,
        cast(null as varchar) as group_id,
        cast(null as varchar) as station_id,
        cast(null as varchar) as watch_name,
        cast(null as varchar) as duty_system,
        min(stations.valid_from) as valid_from,
        cast(null as date) as valid_to
    from stations
    left join services on stations.service_id = services.service_id
    group by stations.service_id
    union all
    select
        unlisted.service_id,
        'service',
        null,
        unlisted.service_id,
        coalesce(services.service_name, unlisted.service_id),
        null,
        null,
        null,
        null,
        unlisted.valid_from,
        null
    from services_without_stations as unlisted
    left join services on unlisted.service_id = services.service_id
),

group_units as (
    select
        service_id || '-' || group_id as org_unit_id,
        'group' as org_level,
        service_id as parent_org_unit_id,
        service_id,
        max(group_name) as org_unit_name,
        group_id,
        cast(null as varchar) as station_id,
        cast(null as varchar) as watch_name,
        cast(null as varchar) as duty_system,
        min(valid_from) as valid_from,
        case when count(*) filter (where valid_to is null) > 0 then null else max(valid_to) end as valid_to
    from stations
    group by service_id, group_id
),

station_units as (
    select
        station_sk as org_unit_id,
        'station' as org_level,
        service_id || '-' || group_id as parent_org_unit_id,
        service_id,
        station_name as org_unit_name,
        group_id,
        station_id,
        cast(null as varchar) as watch_name,
        duty_system,
        valid_from,
        valid_to
    from stations
),

station_watches as (
    select distinct
        stations.station_sk,
        stations.station_id,
        stations.station_name,
        stations.service_id,
        trim(split_part(stations.watches, ';', watch_slots.slot)) as watch_name
    from stations
    cross join watch_slots
    where stations.watches is not null
),

-- On-call crews are a unit too, so on-call staff and their activity roll up through them.
on_call_crews as (
    select distinct station_sk, station_id, station_name, service_id, 'On-call' as watch_name
    from stations
    where duty_system in ('on_call', 'day_crewed')
),

watch_units as (
    select
        watches.station_sk || '-' || upper(replace(watches.watch_name, '-', '')) as org_unit_id,
        'watch' as org_level,
        watches.station_sk as parent_org_unit_id,
        watches.service_id,
        watches.station_name || ' ' || watches.watch_name as org_unit_name,
        min(stations.group_id) as group_id,
        watches.station_id,
        watches.watch_name,
        min(stations.duty_system) as duty_system,
        min(stations.valid_from) as valid_from,
        case when count(*) filter (where stations.valid_to is null) > 0 then null else max(stations.valid_to) end as valid_to
    from (
        select * from station_watches where watch_name <> ''
        union
        select * from on_call_crews
    ) as watches
    inner join stations on watches.station_sk = stations.station_sk
    group by watches.station_sk, watches.station_id, watches.station_name, watches.service_id, watches.watch_name
),

-- Current wards only (a retired ward's records are reported under its successor), plus one
-- "Not allocated to a ward" ward and district per service, for records with no or an unknown
-- ward, so that districts and wards add up to the service.
current_wards as (
    select service_id, ward_code, ward_name, lad_code, lad_name
    from {{ ref('dim_geography') }}
    where is_current_ward
    union all
    select distinct service_id, 'UNALLOCATED', 'Not allocated to a ward', 'UNALLOCATED', 'Not allocated to a ward'
    from {{ ref('dim_geography') }}
),

geography_starts as (
    select service_id, min(valid_from) as valid_from from service_units group by service_id
),

district_units as (
    select
        wards.service_id || '-LAD-' || wards.lad_code as org_unit_id,
        'district' as org_level,
        wards.service_id as parent_org_unit_id,
        wards.service_id,
        max(wards.lad_name) as org_unit_name,
        cast(null as varchar) as group_id,
        cast(null as varchar) as station_id,
        cast(null as varchar) as watch_name,
        cast(null as varchar) as duty_system,
        min(starts.valid_from) as valid_from,
        cast(null as date) as valid_to
    from current_wards as wards
    inner join geography_starts as starts on wards.service_id = starts.service_id
    group by wards.service_id, wards.lad_code
),

ward_units as (
    select
        wards.service_id || '-WARD-' || wards.ward_code as org_unit_id,
        'ward' as org_level,
        wards.service_id || '-LAD-' || wards.lad_code as parent_org_unit_id,
        wards.service_id,
        wards.ward_name as org_unit_name,
        cast(null as varchar) as group_id,
        cast(null as varchar) as station_id,
        cast(null as varchar) as watch_name,
        cast(null as varchar) as duty_system,
        starts.valid_from,
        cast(null as date) as valid_to
    from current_wards as wards
    inner join geography_starts as starts on wards.service_id = starts.service_id
),

unioned as (
    select * from service_units
    union all select * from group_units
    union all select * from station_units
    union all select * from watch_units
    union all select * from district_units
    union all select * from ward_units
),

final as (
    select
        org_unit_id || '@' || cast(valid_from as varchar) as org_unit_version_sk,
        org_unit_id,
        parent_org_unit_id,
        service_id,
        org_level,
        -- A ward ranks with a station and a district with a group (the level a unit sits at
        -- under its service); which KPIs a geography unit reports is the catalogue's
        -- reported_by_place, not this rank.
        case org_level when 'watch' then 1 when 'station' then 2 when 'ward' then 2 when 'group' then 3 when 'district' then 3 else 4 end as org_level_rank,
        case when org_level in ('district', 'ward') then 'geography' else 'organisation' end as hierarchy,
        org_unit_name,
        group_id,
        station_id,
        watch_name,
        duty_system,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from unioned
)

select * from final
