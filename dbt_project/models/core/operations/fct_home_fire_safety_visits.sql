{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- One row per home fire safety (Safe and Well) visit.
--
-- Incremental by month like the other monthly facts, with one addition: a visit is placed at its
-- watch through the hierarchy, so a service whose station list was delivered again since the last
-- build has every month recomputed (a watch added or removed moves old visits too).
with visits as (
    select * from {{ ref('stg_prevention__home_fire_safety_visits') }}
    {{ changed_months_filter(
        [ref('stg_prevention__home_fire_safety_visits')], month_start('visit_date'),
        whole_services_of=[ref('stg_reference__stations')],
    ) }}
),

lookup as (
    select * from {{ ref('int_org_unit_lookup') }}
),

classified as (
    select
        visits.visit_sk,
        visits.service_id,
        visits.station_sk,
        coalesce(lookup.watch_unit_id, visits.station_sk) as org_unit_id,
        visits.ward_sk,
        visits.visit_date,
        {{ month_start('visits.visit_date') }} as period_month,
        visits.household_risk,
        visits.household_risk = 'high' as is_high_risk,
        visits.visit_type,
        visits.referral_source,
        visits._source_file,
        visits._source_row,
        visits._batch_id,
        '{{ invocation_id }}' as _invocation_id
    from visits
    left join lookup
        on visits.service_id = lookup.service_id
        and visits.station_id = lookup.station_id
        and upper(replace(visits.watch, '-', '')) = lookup.watch_code
),

-- Which records each KPI counts (is_counted_for_<kpi>): true counted, false in the KPI's scope but
-- excluded (exclusion_reason says why), null outside it. The KPI models count these flags and the
-- app's drill-through lists them: the record selection is stated here only.
final as (
    select
        classified.*,
        true as is_counted_for_hfsv_done,
        -- Every visit, of which those to high-risk households.
        true as is_counted_for_hfsv_high_risk_pct
    from classified
)

select * from final
