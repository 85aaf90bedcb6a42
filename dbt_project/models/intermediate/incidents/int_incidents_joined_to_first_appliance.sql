-- Each incident with the first appliance to arrive (earliest in-attendance time; pump order
-- breaks ties) and that appliance's response components.
with incidents as (
    select * from {{ ref('stg_irs__incidents') }}
),

mobilisations as (
    select * from {{ ref('stg_mobilising__mobilisations') }}
),

ranked as (
    select
        mobilisations.*,
        row_number() over (
            partition by incident_sk
            order by in_attendance_at nulls last, pump_order nulls last, mobilisation_sk
        ) as arrival_rank
    from mobilisations
),

first_appliance as (
    select * from ranked where arrival_rank = 1
),

-- The newest batch that touched an incident's mobilisations, for incremental processing.
mobilisation_batches as (
    select incident_sk, max(_batch_id) as max_batch_id
    from mobilisations
    group by incident_sk
),

final as (
    select
        incidents.incident_sk,
        incidents.service_id,
        incidents.station_sk,
        incidents.call_month as period_month,
        incidents.incident_category,
        incidents.incident_type,
        incidents.property_category,
        incidents.is_dwelling,
        incidents.is_late_call,
        incidents.is_abandoned_vehicle,
        incidents.is_derelict_property,
        incidents.first_pump_attendance_seconds,
        first_appliance.mobilisation_sk as first_mobilisation_sk,
        first_appliance.appliance_sk as first_appliance_sk,
        first_appliance.call_received_at,
        first_appliance.mobilised_at,
        first_appliance.mobile_at,
        first_appliance.in_attendance_at,
        first_appliance.call_handling_seconds,
        first_appliance.turnout_seconds,
        first_appliance.drive_seconds,
        first_appliance.total_response_seconds,
        greatest(incidents._batch_id, coalesce(mobilisation_batches.max_batch_id, 0)) as _batch_id
    from incidents
    left join first_appliance on incidents.incident_sk = first_appliance.incident_sk
    left join mobilisation_batches on incidents.incident_sk = mobilisation_batches.incident_sk
)

select * from final
