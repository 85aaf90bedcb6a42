-- Sickness absence episodes spread over the months they span, in proportion to calendar
-- days, and attributed to where the person worked that month.
with absences as (
    select * from {{ ref('stg_hr__absences') }}
),

months as (
    select period_month, {{ add_months('period_month', 1) }} as next_month from {{ ref('int_reporting_months') }}
),

staff_months as (
    select * from {{ ref('int_staff_months') }}
),

episodes as (
    select
        absence_sk,
        staff_sk,
        start_date,
        coalesce(end_date, cast({{ as_of_month() }} - interval '1 day' as date)) as end_date,
        shifts_lost
    from absences
),

spread as (
    select
        episodes.absence_sk,
        episodes.staff_sk,
        months.period_month,
        episodes.shifts_lost
            * ({{ days_between("greatest(episodes.start_date, months.period_month)", "least(episodes.end_date, cast(months.next_month - interval '1 day' as date))") }} + 1)
            / ({{ days_between('episodes.start_date', 'episodes.end_date') }} + 1.0) as shifts_lost
    from episodes
    inner join months
        on episodes.start_date < months.next_month
        and episodes.end_date >= months.period_month
    where episodes.end_date >= episodes.start_date
),

final as (
    select
        spread.absence_sk,
        spread.period_month,
        staff_months.service_id,
        staff_months.org_unit_id,
        staff_months.staff_group,
        spread.shifts_lost
    from spread
    inner join staff_months
        on spread.staff_sk = staff_months.staff_sk
        and spread.period_month = staff_months.period_month
)

select * from final
