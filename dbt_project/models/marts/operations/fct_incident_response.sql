{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('stg_irs__incidents') }}
-- depends_on: {{ ref('stg_mobilising__mobilisations') }}

-- One row per incident: first appliance, response components and, where the Home Office
-- rules exclude it from response-time figures, the reason.
with response as (
    select * from {{ ref('int_incident_response_exclusions') }}
    {{ changed_months_filter([ref('stg_irs__incidents'), ref('stg_mobilising__mobilisations')], 'call_month', 'period_month') }}
),

final as (
    select
        response.incident_sk,
        response.service_id,
        response.station_sk,
        response.first_mobilisation_sk,
        response.first_appliance_sk,
        response.period_month,
        response.incident_category,
        response.incident_type,
        response.property_category,
        response.incident_category = 'primary_fire' and response.is_dwelling as is_dwelling_fire,
        response.incident_category = 'primary_fire'
            or (response.incident_category = 'special_service' and response.incident_type = 'rtc') as is_potentially_life_threatening,
        response.response_source,
        response.call_handling_seconds,
        response.turnout_seconds,
        response.drive_seconds,
        response.total_response_seconds,
        response.exclusion_reason,
        response.exclusion_reason is null as is_valid_response,
        response._batch_id
    from response
)

select * from final
