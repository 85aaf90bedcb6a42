with

source as (

    select * from {{ source('home_office', 'fire1001_quarterly') }}

),

renamed as (

    select

        ----------  keys
        year_ending_quarter || '-' || fire_type || '-' || location_category as fire1001_quarterly_sk,
        year_ending_quarter,
        fire_type,
        location_category,

        ----------  location
        {{ fire1001_location_level('location_category') }} as location_level,
        -- Services only, spelt as in the other Home Office tables ('Isles of Scilly').
        case
            when {{ fire1001_location_level('location_category') }} = 'frs'
                then {{ standardise_frs_name('location_category') }}
        end as frs_name,

        ----------  measures (the source holds fractions of a day)
        incidents as count_incidents,
        {{ day_fraction_to_minutes('total_response_time') }} as total_response_minutes,
        {{ day_fraction_to_minutes('call_handling_time') }} as call_handling_minutes,
        {{ day_fraction_to_minutes('crew_turnout_time') }} as crew_turnout_minutes,
        {{ day_fraction_to_minutes('drive_time') }} as drive_minutes,

        ----------  flags
        -- The first rolling year covers April to September 2010 only.
        year_ending_quarter = 'Year ending September 2010' as is_partial_year,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
