-- The golden thread for each service: Fire and Rescue Plan priority -> Annual Plan activities
-- and KPIs -> owners -> latest value, target and status, and the gaps (priorities with no KPI
-- or no activity, KPIs with no owner or no target).
with priorities as (
    select * from {{ ref('dim_priority') }}
),

kpis as (
    select * from {{ ref('dim_kpi') }}
),

services as (
    select distinct service_id from {{ ref('dim_org_unit') }} where org_level = 'service'
),

latest_month as (
    select kpi_code, service_id, max(period_month) as period_month
    from {{ ref('rpt_kpi_monthly') }}
    where org_level = 'service' and value is not null
    group by kpi_code, service_id
),

latest_kpi as (
    select monthly.*
    from {{ ref('rpt_kpi_monthly') }} as monthly
    inner join latest_month
        on monthly.kpi_code = latest_month.kpi_code
        and monthly.service_id = latest_month.service_id
        and monthly.period_month = latest_month.period_month
    where monthly.org_level = 'service'
),

latest_activity_quarter as (
    select service_id, activity_sk, max(updated_date) as updated_date
    from {{ ref('fct_plan_activity_status') }}
    group by service_id, activity_sk
),

activities as (
    select status.*
    from {{ ref('fct_plan_activity_status') }} as status
    inner join latest_activity_quarter
        on status.activity_sk = latest_activity_quarter.activity_sk
        and status.updated_date = latest_activity_quarter.updated_date
    -- The current financial year's plan only.
    where status.financial_year = (select max(financial_year) from {{ ref('fct_plan_activity_status') }})
),

kpi_elements as (
    select
        services.service_id,
        kpis.priority_id,
        'kpi' as element_type,
        kpis.kpi_code as element_id,
        kpis.kpi_name as element_name,
        kpis.owner_role,
        latest_kpi.period_month as latest_period,
        latest_kpi.value as latest_value,
        latest_kpi.target as latest_target,
        coalesce(latest_kpi.rag_status, case when kpis.polarity = 'none' then 'context' end) as status,
        case
            when kpis.owner_role is null then 'kpi_without_owner'
            when kpis.polarity <> 'none' and latest_kpi.target is null then 'kpi_without_target'
        end as gap_type
    from kpis
    cross join services
    left join latest_kpi
        on kpis.kpi_code = latest_kpi.kpi_code
        and services.service_id = latest_kpi.service_id
),

activity_elements as (
    select
        service_id,
        priority_id,
        'activity' as element_type,
        activity_id as element_id,
        title as element_name,
        owner_role,
        updated_date as latest_period,
        cast(null as double) as latest_value,
        cast(null as double) as latest_target,
        status,
        case when owner_role is null then 'activity_without_owner' end as gap_type
    from activities
),

elements as (
    select * from kpi_elements
    union all select * from activity_elements
),

priority_gaps as (
    select
        services.service_id,
        priorities.priority_id,
        'gap' as element_type,
        cast(null as varchar) as element_id,
        case
            when count(elements.element_id) filter (where elements.element_type = 'kpi') = 0 then 'No KPI measures this priority'
            else 'No Annual Plan activity serves this priority'
        end as element_name,
        cast(null as varchar) as owner_role,
        cast(null as date) as latest_period,
        cast(null as double) as latest_value,
        cast(null as double) as latest_target,
        cast(null as varchar) as status,
        case
            when count(elements.element_id) filter (where elements.element_type = 'kpi') = 0 then 'priority_without_kpi'
            else 'priority_without_activity'
        end as gap_type
    from priorities
    cross join services
    left join elements
        on priorities.priority_id = elements.priority_id
        and services.service_id = elements.service_id
    group by services.service_id, priorities.priority_id
    having count(elements.element_id) filter (where elements.element_type = 'kpi') = 0
        or count(elements.element_id) filter (where elements.element_type = 'activity') = 0
),

final as (
    select
        all_elements.service_id || '|' || cast(all_elements.priority_id as varchar) || '|' || all_elements.element_type
            || '|' || coalesce(all_elements.element_id, all_elements.gap_type) as thread_sk,
        all_elements.service_id,
        all_elements.priority_id,
        priorities.priority_name,
        all_elements.element_type,
        all_elements.element_id,
        all_elements.element_name,
        all_elements.owner_role,
        all_elements.latest_period,
        all_elements.latest_value,
        all_elements.latest_target,
        all_elements.status,
        all_elements.gap_type,
        all_elements.gap_type is not null as is_gap
    from (select * from elements union all select * from priority_gaps) as all_elements
    inner join priorities on all_elements.priority_id = priorities.priority_id
)

select * from final
