-- The records received from the monthly, station-attributed source systems, counted by station,
-- month and data-quality outcome: loaded clean, loaded but flagged by a Great Expectations check
-- (blocking or warning), or quarantined at ingestion (current deliveries only: see
-- int_quarantine_of_current_deliveries). Quarantined rows are placed by the station
-- code in their raw text where it can be read, else at the service. Counted here rather than
-- listed record by record: every reader sums them, and a row per record (24 million at national
-- scale) cost ten seconds to write in every close.
with flags as (
    select
        _source_file,
        _source_row,
        max(case when severity = 'blocking' then 1 else 0 end) = 1 as has_blocking_flag,
        max(case when severity = 'warning' then 1 else 0 end) = 1 as has_warning_flag
    from {{ source('audit', 'dq_record_flags') }}
    group by _source_file, _source_row
),

loaded as (
    select 'irs' as system, service_id, station_sk, call_month as period_month, _source_file, _source_row
    from {{ ref('stg_irs__incidents') }}
    union all
    select 'mobilising', service_id, station_sk, call_month, _source_file, _source_row
    from {{ ref('stg_mobilising__mobilisations') }}
    union all
    select 'prevention', service_id, station_sk, {{ month_start('visit_date') }}, _source_file, _source_row
    from {{ ref('stg_prevention__home_fire_safety_visits') }}
    union all
    select 'protection', service_id, station_sk, {{ month_start('audit_date') }}, _source_file, _source_row
    from {{ ref('stg_protection__fire_safety_audits') }}
    union all
    select 'availability', service_id, station_sk, {{ month_start('availability_date') }}, _source_file, _source_row
    from {{ ref('stg_availability__oncall_availability') }}
    union all
    select 'safeguarding', service_id, station_sk, {{ month_start('referral_date') }}, _source_file, _source_row
    from {{ ref('stg_safeguarding__referrals') }}
),

loaded_outcomes as (
    select
        loaded.system,
        loaded.service_id,
        loaded.station_sk,
        loaded.period_month,
        case
            when flags.has_blocking_flag then 'flagged_blocking'
            when flags.has_warning_flag then 'flagged_warning'
            else 'clean'
        end as outcome,
        count(*) as count_records
    from loaded
    left join flags
        on loaded._source_file = flags._source_file
        and loaded._source_row = flags._source_row
    group by all
),

quarantined as (
    select
        quarantine.system,
        quarantine.service_id,
        coalesce(
            {{ json_text_field('quarantine.raw_text', 'station_id') }},
            {{ json_text_field('quarantine.raw_text', 'station_ground') }}
        ) as station_code,
        quarantine.period_month
    from {{ ref('int_quarantine_of_current_deliveries') }} as quarantine
    where quarantine.system in ('irs', 'mobilising', 'prevention', 'protection', 'availability', 'safeguarding')
),

stations as (
    select distinct org_unit_id, service_id, station_id from {{ ref('dim_org_unit') }} where org_level = 'station'
),

quarantined_placed as (
    select
        quarantined.system,
        quarantined.service_id,
        stations.org_unit_id as station_sk,
        quarantined.period_month,
        'quarantined' as outcome,
        count(*) as count_records
    from quarantined
    left join stations
        on quarantined.service_id = stations.service_id
        and quarantined.station_code = stations.station_id
    group by all
),

final as (
    select * from loaded_outcomes
    union all
    select * from quarantined_placed
)

select * from final
