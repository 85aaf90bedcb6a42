-- Home Office response-time exclusions, first matching reason recorded per incident: late
-- calls, abandoned vehicles, derelict property, no attendance time, timestamps out of
-- sequence, totals under one minute or over one hour.
with joined as (
    select * from {{ ref('int_incidents_joined_to_first_appliance') }}
),

measured as (
    select
        *,
        case
            when total_response_seconds is not null then 'mobilising'
            when first_pump_attendance_seconds is not null then 'incident_record'
        end as response_source,
        coalesce(total_response_seconds, first_pump_attendance_seconds) as response_seconds,
        (mobilised_at < call_received_at
            or mobile_at < mobilised_at
            or in_attendance_at < coalesce(mobile_at, mobilised_at)) as is_out_of_sequence
    from joined
),

final as (
    select
        incident_sk,
        service_id,
        station_sk,
        period_month,
        incident_category,
        incident_type,
        property_category,
        is_dwelling,
        first_mobilisation_sk,
        first_appliance_sk,
        response_source,
        call_handling_seconds,
        turnout_seconds,
        drive_seconds,
        response_seconds as total_response_seconds,
        case
            when coalesce(is_late_call, false) then 'late_call'
            when is_abandoned_vehicle then 'abandoned_vehicle'
            when is_derelict_property then 'derelict_property'
            when response_seconds is null then 'no_attendance_time'
            when coalesce(is_out_of_sequence, false) then 'out_of_sequence'
            when response_seconds < 60 then 'under_1_minute'
            when response_seconds > 3600 then 'over_1_hour'
        end as exclusion_reason,
        _batch_id
    from measured
)

select * from final
