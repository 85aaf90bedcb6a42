-- For each operational member of staff in post at a month end: how many core competencies
-- are in date (achieved on or before, expiring after, the month end).
with staff_months as (
    select * from {{ ref('int_staff_months') }} where is_operational
),

records as (
    select * from {{ ref('stg_competence__records') }}
),

core as (
    select skill_code from {{ ref('core_competencies') }}
),

in_date as (
    select
        staff_months.staff_sk,
        staff_months.period_month,
        count(distinct records.skill_code) as count_core_in_date
    from staff_months
    inner join records
        on staff_months.staff_sk = records.staff_sk
        and records.achieved_date < {{ add_months('staff_months.period_month', 1) }}
        and records.expiry_date >= {{ add_months('staff_months.period_month', 1) }}
    inner join core on records.skill_code = core.skill_code
    group by staff_months.staff_sk, staff_months.period_month
),

final as (
    select
        staff_months.staff_sk,
        staff_months.service_id,
        staff_months.period_month,
        staff_months.org_unit_id,
        coalesce(in_date.count_core_in_date, 0) as count_core_in_date,
        coalesce(in_date.count_core_in_date, 0) = (select count(*) from core) as has_all_core_in_date
    from staff_months
    left join in_date
        on staff_months.staff_sk = in_date.staff_sk
        and staff_months.period_month = in_date.period_month
)

select * from final
