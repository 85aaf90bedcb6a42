with

source as (

    select * from {{ source('competence', 'records') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || record_id as competence_record_sk,
        record_id as competence_record_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || staff_key as staff_sk,
        staff_key,

        ----------  attributes
        {{ clean_text('skill_code') }} as skill_code,

        ----------  dates
        achieved_date,
        expiry_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
