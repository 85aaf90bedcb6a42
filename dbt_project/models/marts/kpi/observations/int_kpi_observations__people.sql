-- Workforce KPIs at the lowest unit staff are recorded in x month.
with workforce as (
    select * from {{ ref('fct_workforce_monthly') }}
),

sickness as (
    select * from {{ ref('fct_sickness_absence_monthly') }}
),

competence as (
    select * from {{ ref('fct_competence_monthly') }}
),

cases as (
    select * from {{ ref('fct_hr_cases') }} where is_closed
),

staff_groups as (
    select 'SICK_SHIFTS_FTE' as kpi_code, cast(null as varchar) as staff_group
    union all select 'SICK_SHIFTS_FTE_WHOLETIME', 'wholetime'
    union all select 'SICK_SHIFTS_FTE_ON_CALL', 'on_call'
    union all select 'SICK_SHIFTS_FTE_CONTROL', 'control'
    union all select 'SICK_SHIFTS_FTE_SUPPORT', 'support'
),

fte as (
    select org_unit_id, service_id, period_month, staff_group, sum(total_fte) as fte
    from workforce
    group by org_unit_id, service_id, period_month, staff_group
),

shifts as (
    select org_unit_id, service_id, period_month, staff_group, sum(shifts_lost) as shifts_lost
    from sickness
    group by org_unit_id, service_id, period_month, staff_group
),

sickness_by_group as (
    select
        staff_groups.kpi_code,
        fte.org_unit_id,
        fte.service_id,
        fte.period_month,
        coalesce(sum(shifts.shifts_lost), 0) as shifts_lost,
        sum(fte.fte) as fte
    from fte
    inner join staff_groups on staff_groups.staff_group is null or fte.staff_group = staff_groups.staff_group
    left join shifts
        on fte.org_unit_id = shifts.org_unit_id
        and fte.period_month = shifts.period_month
        and fte.staff_group = shifts.staff_group
    group by staff_groups.kpi_code, fte.org_unit_id, fte.service_id, fte.period_month
),

operational as (
    select
        org_unit_id,
        service_id,
        period_month,
        sum(count_staff) as uniformed,
        sum(count_staff) filter (where gender = 'female') as women,
        sum(count_staff) filter (where ethnicity in ('mixed', 'asian', 'black', 'other')) as ethnic_minority
    from workforce
    where is_operational
    group by org_unit_id, service_id, period_month
),

final as (
    select kpi_code, org_unit_id, service_id, period_month, cast(shifts_lost as double) as numerator, cast(fte as double) as denominator, cast(null as varchar) as denominator_vintage from sickness_by_group
    union all select 'WOMEN_FF_PCT', org_unit_id, service_id, period_month, coalesce(women, 0), uniformed, null from operational
    union all select 'EM_UNIFORMED_PCT', org_unit_id, service_id, period_month, coalesce(ethnic_minority, 0), uniformed, null from operational
    union all select 'COMPETENCE_PCT', org_unit_id, service_id, period_month, count_all_core_in_date, count_operational_staff, null from competence
    union all
    select 'CASE_DAYS_MEAN', service_id, service_id, closed_month, sum(days_to_resolve), count(*), null
    from cases group by service_id, closed_month
)

select * from final
