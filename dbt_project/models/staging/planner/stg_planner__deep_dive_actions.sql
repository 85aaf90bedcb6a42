with

source as (

    select * from {{ source('planner', 'deep_dive_actions') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || action_number as action_sk,
        action_number,
        service_id,

        ----------  codes
        {{ clean_code('status') }} as status,

        ----------  attributes
        {{ clean_text('deep_dive') }} as deep_dive,
        {{ clean_text('area_for_review') }} as area_for_review,
        -- The contact's name is dropped at ingestion; only the role reaches the warehouse.
        {{ clean_text('contact_role') }} as contact_role,
        notes,

        ----------  dates
        update_due as update_due_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
