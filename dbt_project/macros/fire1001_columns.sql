{#- The location and measure columns shared by FIRE1001's annual and quarterly tables: which
    kind of area a row is (service, grouping, England), the service's standardised name, and
    the times converted from fractions of a day to minutes. -#}
{% macro fire1001_location_and_measures() -%}
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
{%- endmacro %}
