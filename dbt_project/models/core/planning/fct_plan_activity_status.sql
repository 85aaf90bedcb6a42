-- Annual Plan activities with their status at each quarterly update.
with activities as (
    select * from {{ ref('stg_planner__activities') }}
),

updates as (
    select * from {{ ref('stg_planner__activity_updates') }}
),

final as (
    select
        activities.activity_sk || '|' || updates.quarter as activity_status_sk,
        activities.activity_sk,
        activities.activity_id,
        activities.service_id,
        activities.financial_year,
        updates.quarter as financial_quarter,
        -- The month a quarter's update reports on: its last month (Q1 -> June).
        case updates.quarter
            when 'Q1' then {{ add_months("cast(left(activities.financial_year, 4) || '-04-01' as date)", 2) }}
            when 'Q2' then {{ add_months("cast(left(activities.financial_year, 4) || '-04-01' as date)", 5) }}
            when 'Q3' then {{ add_months("cast(left(activities.financial_year, 4) || '-04-01' as date)", 8) }}
            else {{ add_months("cast(left(activities.financial_year, 4) || '-04-01' as date)", 11) }}
        end as period_month,
        -- Staging reads it as BIGINT; dim_priority.priority_id is an integer.
        cast(activities.priority_id as integer) as priority_id,
        activities.title,
        activities.labels,
        activities.labels like '%HMICFRS AI%' as is_hmicfrs_area_for_improvement,
        activities.directorate,
        activities.owner_role,
        activities.definition_of_done,
        activities.objective,
        activities.is_rolled_over,
        activities.due_date,
        updates.status,
        updates.status in ('on_track', 'complete') as is_on_track_or_complete,
        updates.status not in ('complete', 'deferred') and activities.due_date < updates.updated_date as is_overdue,
        updates.commentary,
        updates.updated_date
    from activities
    inner join updates on activities.activity_sk = updates.activity_sk
)

select * from final
