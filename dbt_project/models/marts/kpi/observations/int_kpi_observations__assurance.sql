-- Annual Plan progress (quarterly, at the quarter's last month) and ingestion accuracy.
with activity_status as (
    select * from {{ ref('fct_plan_activity_status') }}
),

accuracy as (
    select * from {{ ref('fct_dq_accuracy') }}
),

final as (
    select
        'PLAN_ON_TRACK_PCT' as kpi_code,
        service_id as org_unit_id,
        service_id,
        period_month,
        cast(count(*) filter (where is_on_track_or_complete) as double) as numerator,
        cast(count(*) as double) as denominator,
        cast(null as varchar) as denominator_vintage
    from activity_status
    group by service_id, period_month
    union all
    select
        'DQ_ACCURACY_PCT',
        org_unit_id,
        service_id,
        period_month,
        sum(count_passing),
        sum(count_received),
        null
    from accuracy
    group by org_unit_id, service_id, period_month
)

select * from final
