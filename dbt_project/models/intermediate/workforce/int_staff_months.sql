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

in_post as (
    select
        staff.staff_sk,
        staff.service_id,
        months.period_month,
        staff.station_id,
        upper(replace(staff.watch, '-', '')) as watch_code,
        staff.staff_group,
        staff.role,
        staff.is_operational,
        staff.gender,
        staff.ethnicity,
        staff.fte
    from staff
    inner join service_starts on staff.service_id = service_starts.service_id
    inner join months
        on staff.start_date < months.next_month
        and (staff.leave_date is null or staff.leave_date >= months.next_month)
        and months.next_month > service_starts.first_day
),

final as (
    select
        in_post.staff_sk,
        in_post.service_id,
        in_post.period_month,
        coalesce(watch_lookup.watch_unit_id, station_lookup.station_unit_id, in_post.service_id) as org_unit_id,
        in_post.staff_group,
        in_post.role,
        in_post.is_operational,
        in_post.gender,
        in_post.ethnicity,
        in_post.fte
    from in_post
    left join lookup as watch_lookup
        on in_post.service_id = watch_lookup.service_id
        and in_post.station_id = watch_lookup.station_id
        and in_post.watch_code = watch_lookup.watch_code
    left join (select distinct service_id, station_id, station_unit_id from lookup) as station_lookup
        on in_post.service_id = station_lookup.service_id
        and in_post.station_id = station_lookup.station_id
)

select * from final
