with

source as (

    select * from {{ source('hr', 'absences') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || absence_id as absence_sk,
        absence_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || staff_key as staff_sk,
        staff_key,

        ----------  attributes
        {{ clean_text('reason_category') }} as reason_category,
        shifts_lost,

        ----------  dates
        start_date,
        end_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
