with

source as (

    select * from {{ source('planner', 'activities') }}

),

renamed as (

    select

        ----------  keys
        -- Rolled-over activities keep their ids (e.g. AP2022017), so the year is part of the key.
        service_id || '-' || financial_year || '-' || activity_id as activity_sk,
        activity_id,
        financial_year,
        service_id,

        ----------  foreign keys
        priority_id,

        ----------  attributes
        {{ clean_text('title') }} as title,
        -- ';'-separated labels, e.g. 'HMICFRS AI;IRMP'; split downstream.
        {{ clean_text('labels') }} as labels,
        {{ clean_text('directorate') }} as directorate,
        {{ clean_text('owner_role') }} as owner_role,
        {{ clean_text('definition_of_done') }} as definition_of_done,
        {{ clean_text('objective') }} as objective,
        is_rolled_over,

        ----------  dates
        due_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
