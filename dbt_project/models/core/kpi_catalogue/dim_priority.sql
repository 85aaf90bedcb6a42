-- Fire and Rescue Plan priorities, the top of the golden thread.
with priorities as (
    select * from {{ ref('plan_priorities') }}
),

final as (
    select
        cast(priority_id as integer) as priority_id,
        priority_name,
        plan_name,
        plan_period
    from priorities
)

select * from final
