-- For each operational member of staff in post at a month end: how many core competencies
-- are in date (achieved on or before, expiring after, the month end).
--
-- Computed from each person's competence timeline, not by joining every staff-month to every
-- record it might fall in: that range join made 24M staff-month-record rows at national scale
-- and counted distinct skills over them (10.8 s of a 2-core close; this is 1.6 s).
-- A record is in date at the end of month m when achieved_date < m + 1 month and
-- expiry_date >= m + 1 month, i.e. for months month_start(achieved_date) .. month_start(expiry_date) - 1 month.
with staff_months as (
    select * from {{ ref('int_staff_months') }} where is_operational
),

records as (
    select * from {{ ref('stg_competence__records') }}
),

core as (
    select skill_code from {{ ref('core_competencies') }}
),

spans as (
    select
        records.staff_sk,
        records.skill_code,
        {{ month_start('records.achieved_date') }} as from_month,
        {{ add_months(month_start('records.expiry_date'), -1) }} as to_month
    from records
    inner join core on records.skill_code = core.skill_code
    where records.achieved_date is not null and records.expiry_date is not null
),

-- A renewal taken before the old record expires overlaps it: merge each skill's overlapping
-- spans, so that a skill counts once in a month however many of its records cover it.
ordered as (
    select
        *,
        max(to_month) over (
            partition by staff_sk, skill_code order by from_month, to_month
            rows between unbounded preceding and 1 preceding
        ) as covered_to
    from spans
    where from_month <= to_month
),

islands as (
    select
        staff_sk,
        skill_code,
        from_month,
        to_month,
        sum(case when covered_to is null or from_month > covered_to then 1 else 0 end) over (
            partition by staff_sk, skill_code order by from_month, to_month rows unbounded preceding
        ) as island
    from ordered
),

merged as (
    select staff_sk, min(from_month) as from_month, max(to_month) as to_month
    from islands
    group by staff_sk, skill_code, island
),

-- Skills coming into date (+1) and going out of date (-1) by month; the running sum is the count
-- in date from that month until the person's next change.
changes as (
    select staff_sk, change_month, sum(delta) as delta
    from (
        select staff_sk, from_month as change_month, 1 as delta from merged
        union all
        select staff_sk, {{ add_months('to_month', 1) }} as change_month, -1 as delta from merged
    ) as deltas
    group by staff_sk, change_month
),

timeline as (
    select
        staff_sk,
        change_month,
        lead(change_month) over (partition by staff_sk order by change_month) as next_change_month,
        cast(sum(delta) over (partition by staff_sk order by change_month) as bigint) as count_core_in_date
    from changes
),

final as (
    select
        staff_months.staff_sk,
        staff_months.service_id,
        staff_months.period_month,
        staff_months.org_unit_id,
        coalesce(timeline.count_core_in_date, 0) as count_core_in_date,
        coalesce(timeline.count_core_in_date, 0) = (select count(*) from core) as has_all_core_in_date
    from staff_months
    left join timeline
        on staff_months.staff_sk = timeline.staff_sk
        and staff_months.period_month >= timeline.change_month
        and (timeline.next_change_month is null or staff_months.period_month < timeline.next_change_month)
)

select * from final
