-- One row per member of staff in post at the end of each reporting month, placed in the
-- lowest organisation unit their record supports. Pseudonymised keys only; not exposed.
with staff as (
    select * from {{ ref('stg_hr__staff') }}
),

months as (
    select period_month, {{ add_months('period_month', 1) }} as next_month from {{ ref('int_reporting_months') }}
),

lookup as (
    select * from {{ ref('int_org_unit_lookup') }}
),

-- Each service's history starts with its own organisation (not another service's data).
service_starts as (
    select service_id, min(valid_from) as first_day
    from {{ ref('dim_org_unit') }}
    where org_level = 'service'
    group by service_id
),

-- Each record's months in post, generated from its own dates rather than found by a range join
-- of staff to months: the range join had to hold every pair in memory (out of memory at national
-- scale under a 2 GB cap), the series streams. In post at the end of month m means
-- start_date < m + 1 month and (no leave_date or leave_date >= m + 1 month), i.e.
-- month_start(start_date) <= m <= month_start(leave_date) - 1 month.
bounds as (
    select min(period_month) as first_month, max(period_month) as last_month from months
),

-- Each record placed once, before its months are generated: the unit depends on the record's
-- station and watch, not the month, and joining the lookup to every staff-month (5.4 million
-- nationally) cost a second of every build.
placed as (
    select
        staff.staff_sk,
        staff.service_id,
        greatest(
            {{ month_start('staff.start_date') }},
            {{ month_start('service_starts.first_day') }},
            bounds.first_month
        ) as first_month_in_post,
        least(
            coalesce({{ add_months(month_start('staff.leave_date'), -1) }}, bounds.last_month),
            bounds.last_month
        ) as last_month_in_post,
        coalesce(watch_lookup.watch_unit_id, station_lookup.station_unit_id, staff.service_id) as org_unit_id,
        staff.staff_group,
        staff.role,
        staff.is_operational,
        staff.gender,
        staff.ethnicity,
        staff.fte
    from staff
    inner join service_starts on staff.service_id = service_starts.service_id
    cross join bounds
    left join lookup as watch_lookup
        on staff.service_id = watch_lookup.service_id
        and staff.station_id = watch_lookup.station_id
        and upper(replace(staff.watch, '-', '')) = watch_lookup.watch_code
    left join (select distinct service_id, station_id, station_unit_id from lookup) as station_lookup
        on staff.service_id = station_lookup.service_id
        and staff.station_id = station_lookup.station_id
),

final as (
    select
        staff_sk,
        service_id,
        cast(unnest(generate_series(
            cast(first_month_in_post as timestamp),
            cast(last_month_in_post as timestamp),
            interval 1 month
        )) as date) as period_month,
        org_unit_id,
        staff_group,
        role,
        is_operational,
        gender,
        ethnicity,
        fte
    from placed
)

select * from final
