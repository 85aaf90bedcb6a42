-- Sickness absence episodes spread over the months they span, in proportion to calendar
-- days, and attributed to where the person worked that month.
-- Two rules decide which days count:
--   * a leaver's absence counts up to and including their last day of service (leave_date),
--     in their last month too (they are not in post at that month's end, so the month is
--     attributed to their last placement); days of a spell after leaving are not counted;
--   * a person absent on one day in two overlapping spells counts that day once (once per
--     person-day): it belongs to the spell that started first (on the same start, the lower
--     absence_sk). The overlapping spells themselves are flagged by the raw data-quality check
--     on hr__absences (expectations/suites/raw.py), so an auditor sees each pair.
-- A spell's shifts_lost is spread over all its calendar days; the days not counted (after
-- leaving, or already counted in an earlier spell) take their share with them.
with absences as (
    select * from {{ ref('stg_hr__absences') }}
),

staff as (
    select staff_sk, leave_date from {{ ref('stg_hr__staff') }}
),

months as (
    select period_month, {{ add_months('period_month', 1) }} as next_month from {{ ref('int_reporting_months') }}
),

staff_months as (
    select * from {{ ref('int_staff_months') }}
),

-- A leaver's last month is not a month in post (in post means at the month's end): their
-- absence that month goes to the unit of their last month in post.
last_months_in_post as (
    select staff_sk, max(period_month) as last_month_in_post
    from staff_months
    group by staff_sk
),

episodes as (
    select
        absences.absence_sk,
        absences.staff_sk,
        absences.start_date,
        coalesce(absences.end_date, cast({{ as_of_month() }} - interval '1 day' as date)) as end_date,
        staff.leave_date,
        absences.shifts_lost
    from absences
    left join staff on absences.staff_sk = staff.staff_sk
),

-- Spells whose end is before their start are not spread (the raw suite warns of them).
sequenced as (
    select
        *,
        max(end_date) over (
            partition by staff_sk
            order by start_date, absence_sk
            rows between unbounded preceding and 1 preceding
        ) as earlier_spells_end_date
    from episodes
    where end_date >= start_date
),

counted as (
    select
        absence_sk,
        staff_sk,
        start_date,
        end_date,
        shifts_lost,
        case
            when earlier_spells_end_date >= start_date then cast(earlier_spells_end_date + interval '1 day' as date)
            else start_date
        end as counted_start_date,
        case
            when leave_date < end_date then leave_date
            else end_date
        end as counted_end_date
    from sequenced
),

spread as (
    select
        counted.absence_sk,
        counted.staff_sk,
        months.period_month,
        counted.shifts_lost
            * ({{ days_between("greatest(counted.counted_start_date, months.period_month)", "least(counted.counted_end_date, cast(months.next_month - interval '1 day' as date))") }} + 1)
            / ({{ days_between('counted.start_date', 'counted.end_date') }} + 1.0) as shifts_lost
    from counted
    inner join months
        on counted.counted_start_date < months.next_month
        and counted.counted_end_date >= months.period_month
    where counted.counted_end_date >= counted.counted_start_date
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
    inner join last_months_in_post
        on spread.staff_sk = last_months_in_post.staff_sk
    inner join staff_months
        on spread.staff_sk = staff_months.staff_sk
        and staff_months.period_month = least(spread.period_month, last_months_in_post.last_month_in_post)
)

select * from final
