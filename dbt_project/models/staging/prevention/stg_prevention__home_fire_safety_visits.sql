with

source as (

    select * from {{ source('prevention', 'home_fire_safety_visits') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || visit_id as visit_sk,
        visit_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_id as station_sk,
        service_id || '-' || ward_code as ward_sk,
        station_id,
        ward_code,

        ----------  codes
        {{ standardise_watch('watch') }} as watch,
        {{ clean_code('household_risk') }} as household_risk,
        {{ clean_text('visit_type') }} as visit_type,
        {{ clean_text('referral_source') }} as referral_source,

        ----------  dates
        visit_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
