-- One row per home fire safety (Safe and Well) visit.
with visits as (
    select * from {{ ref('stg_prevention__home_fire_safety_visits') }}
),

lookup as (
    select * from {{ ref('int_org_unit_lookup') }}
),

final as (
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
        visits._source_row
    from visits
    left join lookup
        on visits.service_id = lookup.service_id
        and visits.station_id = lookup.station_id
        and upper(replace(visits.watch, '-', '')) = lookup.watch_code
)

select * from final
