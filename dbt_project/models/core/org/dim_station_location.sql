-- Where each station stands, per station version: its British National Grid reference from the
-- station reference data, for the app's map (which converts it to latitude and longitude).
with stations as (
    select * from {{ ref('stg_reference__stations') }}
),

final as (
    select
        station_version_sk,
        station_sk,
        service_id,
        station_id,
        station_name,
        easting,
        northing,
        valid_from,
        valid_to
    from stations
)

select * from final
