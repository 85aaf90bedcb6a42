with

source as (

    select * from {{ source('irs', 'incidents') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || incident_id as incident_sk,
        incident_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_ground as station_sk,
        service_id || '-' || ward_code as ward_sk,
        station_ground as station_id,
        ward_code,

        ----------  codes
        {{ clean_code('incident_category') }} as incident_category,
        {{ clean_code('incident_type') }} as incident_type,
        {{ clean_code('property_category') }} as property_category,
        {{ clean_text('property_type') }} as property_type,
        {{ clean_code('motive') }} as motive,

        ----------  booleans
        -- As the Home Office's fire statistics count them, accidental fires include those of
        -- cause not known; a missing motive is not known.
        coalesce({{ clean_code('motive') }}, 'not_known') in ('accidental', 'not_known')
            as is_accidental,
        -- Deliberate includes suspected deliberate (both are coded 'deliberate').
        coalesce({{ clean_code('motive') }} = 'deliberate', false) as is_deliberate,
        -- Dwelling excludes hotels, hostels and communal establishments (other_residential).
        coalesce({{ clean_code('property_category') }} = 'dwelling', false) as is_dwelling,
        -- Home Office response-time analysis excludes abandoned vehicles and derelict property.
        coalesce(lower(property_type) like '%abandoned%', false) as is_abandoned_vehicle,
        coalesce(lower(property_type) like '%derelict%', false) as is_derelict_property,
        is_confined_to_room,
        is_late_call,

        ----------  counts
        casualties_hospital_serious as count_casualties_hospital_serious,
        casualties_hospital_slight as count_casualties_hospital_slight,
        casualties_first_aid as count_casualties_first_aid,
        casualties_precautionary as count_casualties_precautionary,
        -- BVPI 143ii: injuries exclude precautionary checks; null when no casualty figure is known.
        case
            when casualties_hospital_serious is null
                and casualties_hospital_slight is null
                and casualties_first_aid is null
                then null
            else coalesce(casualties_hospital_serious, 0)
                + coalesce(casualties_hospital_slight, 0)
                + coalesce(casualties_first_aid, 0)
        end as count_injuries_excl_precautionary,
        fatalities as count_fatalities,
        rescues as count_rescues,
        appliances_attending as count_appliances_attending,

        ----------  measures
        first_pump_attendance_seconds,

        ----------  timestamps
        call_at,
        cast(call_at as date) as call_date,
        cast({{ dbt.date_trunc('month', 'call_at') }} as date) as call_month,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
