with

source as (

    select * from {{ source('protection', 'fire_safety_audits') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || audit_id as audit_sk,
        audit_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_id as station_sk,
        service_id || '-' || ward_code as ward_sk,
        service_id || '-' || premises_id as premises_sk,
        station_id,
        ward_code,
        premises_id,

        ----------  codes
        {{ standardise_watch('watch') }} as watch,
        {{ clean_text('premises_type') }} as premises_type,
        {{ clean_code('risk_band') }} as risk_band,
        {{ clean_code('outcome') }} as outcome,

        ----------  booleans
        is_rbip,

        ----------  dates
        audit_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
