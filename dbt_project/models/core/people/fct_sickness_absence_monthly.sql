-- Working shifts lost to sickness by organisation unit, staff group and month. Each person-day
-- absent counts once (overlapping spells: to the spell that started first) and a leaver's absence
-- counts up to their last day of service: see int_absence_shifts_by_month. A spell wholly inside
-- an earlier spell of the same person adds no shifts and no episode.
with shifts as (
    select * from {{ ref('int_absence_shifts_by_month') }}
),

final as (
    select
        org_unit_id || '|' || cast(period_month as varchar) || '|' || staff_group as sickness_sk,
        org_unit_id,
        service_id,
        period_month,
        staff_group,
        count(distinct absence_sk) as count_episodes,
        sum(shifts_lost) as shifts_lost
    from shifts
    group by org_unit_id, service_id, period_month, staff_group
)

select * from final
