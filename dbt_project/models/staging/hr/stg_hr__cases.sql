with

source as (

    select * from {{ source('hr', 'cases') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || case_id as case_sk,
        case_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || staff_key as staff_sk,
        staff_key,

        ----------  attributes
        {{ clean_text('case_type') }} as case_type,

        ----------  dates
        opened_date,
        closed_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
