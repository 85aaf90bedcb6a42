{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- One row per appliance mobilised to an incident, with its timing components.
with mobilisations as (
    select * from {{ ref('stg_mobilising__mobilisations') }}
    {{ changed_months_filter([ref('stg_mobilising__mobilisations')], 'call_month') }}
),

final as (
    select
        mobilisation_sk,
        mobilisation_id,
        incident_sk,
        service_id,
        station_sk,
        appliance_sk,
        call_month as period_month,
        pump_order,
        call_received_at,
        mobilised_at,
        mobile_at,
        in_attendance_at,
        call_handling_seconds,
        turnout_seconds,
        drive_seconds,
        total_response_seconds,
        _source_file,
        _source_row,
        _batch_id,
        '{{ invocation_id }}' as _invocation_id
    from mobilisations
)

select * from final
