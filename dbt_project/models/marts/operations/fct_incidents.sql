{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- One row per incident attended, with the IRS classifications every KPI needs.
with incidents as (
    select * from {{ ref('stg_irs__incidents') }}
    {{ changed_months_filter([ref('stg_irs__incidents')], 'call_month') }}
),

final as (
    select
        incident_sk,
        incident_id,
        service_id,
        station_sk,
        ward_sk,
        call_month as period_month,
        call_date,
        call_at,
        incident_category,
        incident_type,
        property_category,
        property_type,
        motive,
        incident_category = 'primary_fire' as is_primary_fire,
        incident_category = 'primary_fire' and is_dwelling and is_accidental as is_accidental_dwelling_fire,
        incident_category = 'primary_fire' and is_dwelling as is_dwelling_fire,
        incident_category = 'primary_fire' and is_deliberate and property_category <> 'vehicle' as is_deliberate_primary_excl_vehicle,
        incident_category = 'primary_fire' and is_deliberate and property_category = 'vehicle' as is_deliberate_vehicle_fire,
        incident_category = 'false_alarm' and incident_type = 'apparatus'
            and property_category in ('non_domestic', 'other_residential') as is_afa_non_domestic,
        incident_category = 'special_service' and incident_type = 'rtc' as is_rtc,
        -- Null where the service did not record it: "not recorded" is not "not confined".
        is_confined_to_room,
        coalesce(is_late_call, false) as is_late_call,
        is_abandoned_vehicle,
        is_derelict_property,
        count_injuries_excl_precautionary,
        count_fatalities,
        coalesce(count_rescues, 0) as count_rescues,
        count_appliances_attending as count_appliances,
        first_pump_attendance_seconds,
        _source_file,
        _source_row,
        _batch_id,
        '{{ invocation_id }}' as _invocation_id
    from incidents
)

select * from final
