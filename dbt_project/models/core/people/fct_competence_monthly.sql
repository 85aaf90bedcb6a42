-- Operational staff in post and those with every core competence in date, by unit and month.
with staff as (
    select * from {{ ref('int_competence_staff_months') }}
),

final as (
    select
        org_unit_id || '|' || cast(period_month as varchar) as competence_sk,
        org_unit_id,
        service_id,
        period_month,
        count(*) as count_operational_staff,
        count(*) filter (where has_all_core_in_date) as count_all_core_in_date
    from staff
    group by org_unit_id, service_id, period_month
)

select * from final
