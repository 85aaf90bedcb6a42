{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- One row per on-call appliance per day: hours available out of 24.
with availability as (
    select * from {{ ref('stg_availability__oncall_availability') }}
    {{ changed_months_filter([ref('stg_availability__oncall_availability')], month_start('availability_date')) }}
),

classified as (
    select
        appliance_sk || '|' || cast(availability_date as varchar) as availability_sk,
        appliance_sk,
        service_id,
        station_sk,
        availability_date,
        {{ month_start('availability_date') }} as period_month,
        hours_available,
        -- A bare 24.0 is a DECIMAL(3,1) literal; hours are doubles everywhere else.
        cast(24 as double) as hours_in_day,
        _batch_id,
        '{{ invocation_id }}' as _invocation_id
    from availability
),

-- Which records each KPI counts (is_counted_for_<kpi>): true counted, false in the KPI's scope but
-- excluded (exclusion_reason says why), null outside it. The KPI models count these flags and the
-- app's drill-through lists them: the record selection is stated here only.
final as (
    select
        classified.*,
        -- Every appliance-day, day-crewed appliances at 24 hours (dim_kpi.scope).
        true as is_counted_for_oncall_avail_pct
    from classified
)

select * from final
