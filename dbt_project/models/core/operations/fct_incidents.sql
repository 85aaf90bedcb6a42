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

classified as (
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
),

-- Which records each KPI counts (is_counted_for_<kpi>): true counted, false in the KPI's scope but
-- excluded (exclusion_reason says why), null outside it. The KPI models count these flags and the
-- app's drill-through lists them: the record selection is stated here only.
final as (
    select
        classified.*,
        true as is_counted_for_inc_total,
        case when classified.is_primary_fire then true end as is_counted_for_pri_fires_10k,
        case when classified.is_accidental_dwelling_fire then true end as is_counted_for_adf_10k_dwell,
        -- Injuries (excluding precautionary checks) at accidental dwelling fires: the fires with any.
        case when classified.is_accidental_dwelling_fire and classified.count_injuries_excl_precautionary > 0 then true end
            as is_counted_for_adf_inj_100k,
        -- Deaths at fires (primary, secondary, chimney): the fires with any.
        case when classified.incident_category in ('primary_fire', 'secondary_fire', 'chimney_fire') and classified.count_fatalities > 0
            then true end as is_counted_for_fire_deaths,
        -- Accidental dwelling fires, of which those confined to the room of origin.
        case when classified.is_accidental_dwelling_fire then true end as is_counted_for_adf_confined_pct,
        case when classified.is_afa_non_domestic then true end as is_counted_for_afa_1k_nondom,
        case when classified.is_deliberate_primary_excl_vehicle then true end as is_counted_for_delib_pri_10k,
        case when classified.is_deliberate_vehicle_fire then true end as is_counted_for_delib_veh_10k,
        case when classified.is_rtc then true end as is_counted_for_rtc_attended
    from classified
)

select * from final
