with

source as (

    select * from {{ source('reference', 'wards') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || ward_code as ward_sk,
        ward_code,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_id as station_sk,
        station_id,
        lad_code,

        ----------  attributes
        {{ clean_text('ward_name') }} as ward_name,
        {{ clean_text('lad_name') }} as lad_name,

        ----------  denominators
        population,
        dwellings,
        non_domestic_properties,
        vintage_year,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
