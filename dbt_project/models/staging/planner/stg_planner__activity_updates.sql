with

source as (

    select * from {{ source('planner', 'activity_updates') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || financial_year || '-' || activity_id || '-' || upper(trim(quarter))
            as activity_update_sk,
        service_id,

        ----------  foreign keys
        service_id || '-' || financial_year || '-' || activity_id as activity_sk,
        activity_id,
        financial_year,

        ----------  codes
        upper(trim(quarter)) as quarter,
        {{ clean_code('status') }} as status,

        ----------  attributes
        {{ clean_text('commentary') }} as commentary,

        ----------  dates
        updated_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
