-- Resolve a (service, station, watch) triple to the lowest organisation unit that exists:
-- the watch, else the station, else the service. Current version of each unit.
with units as (
    select distinct org_unit_id, org_level, service_id, station_id, watch_name
    from {{ ref('dim_org_unit') }}
),

stations as (
    select org_unit_id, service_id, station_id from units where org_level = 'station'
),

watches as (
    select org_unit_id, service_id, station_id, upper(replace(watch_name, '-', '')) as watch_code
    from units where org_level = 'watch'
),

final as (
    select
        stations.service_id,
        stations.station_id,
        watches.watch_code,
        stations.org_unit_id as station_unit_id,
        watches.org_unit_id as watch_unit_id
    from stations
    left join watches
        on stations.service_id = watches.service_id
        and stations.station_id = watches.station_id
)

select * from final
