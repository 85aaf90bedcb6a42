-- The deep-dive action log: action, deep dive, area for review, contact role, update due, status.
with actions as (
    select * from {{ ref('stg_planner__deep_dive_actions') }}
),

final as (
    select
        action_sk,
        action_number,
        service_id,
        deep_dive,
        area_for_review,
        contact_role,
        update_due_date,
        notes,
        status,
        status not in ('complete', 'closed') and update_due_date < {{ as_of_month() }} as is_overdue
    from actions
)

select * from final
