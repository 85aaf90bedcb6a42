with

source as (

    select * from {{ source('hr', 'staff') }}

),

renamed as (

    select

        ----------  keys
        -- staff_key is the keyed hash of the staff number made at ingestion; names never land.
        service_id || '-' || staff_key as staff_sk,
        staff_key,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_id as station_sk,
        station_id,

        ----------  codes
        {{ clean_code('staff_group') }} as staff_group,
        {{ clean_text('role') }} as role,
        {{ standardise_watch('watch') }} as watch,
        {{ clean_code('gender') }} as gender,
        {{ clean_code('ethnicity') }} as ethnicity,

        ----------  attributes
        is_operational,
        fte,

        ----------  dates
        start_date,
        leave_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
