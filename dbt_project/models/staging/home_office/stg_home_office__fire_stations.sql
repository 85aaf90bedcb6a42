with

source as (

    select * from {{ source('home_office', 'fire_stations') }}

),

renamed as (

    select

        ----------  keys
        frs_code || '-' || station_name as fire_station_sk,
        frs_code,
        station_name,

        ----------  attributes
        {{ standardise_frs_name('frs_name') }} as frs_name,
        {{ clean_text('station_address') }} as station_address,
        {{ clean_text('station_postcode') }} as station_postcode,
        easting,
        northing,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
