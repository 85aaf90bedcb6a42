-- Staff in post at each month end by organisation unit, staff group, gender and ethnicity:
-- counts only, no person-level rows (special category data stays out of the marts).
with staff_months as (
    select * from {{ ref('int_staff_months') }}
),

final as (
    select
        org_unit_id || '|' || cast(period_month as varchar) || '|' || staff_group || '|'
            || cast(is_operational as varchar) || '|' || gender || '|' || ethnicity as workforce_sk,
        org_unit_id,
        service_id,
        period_month,
        staff_group,
        is_operational,
        gender,
        ethnicity,
        count(*) as count_staff,
        sum(fte) as total_fte
    from staff_months
    group by org_unit_id, service_id, period_month, staff_group, is_operational, gender, ethnicity
)

select * from final
