-- Owner commentary and actions on KPI values, every entry (history), flagged where it is the
-- latest for its KPI, unit and month (the one reports show). Authors are pseudonymised.
with commentary as (
    select * from {{ ref('stg_app__commentaries') }}
),

final as (
    select
        commentary_id,
        kpi_month_sk,
        service_id,
        kpi_code,
        org_unit_id,
        period_month,
        author_key,
        commentary,
        action,
        action_owner_key,
        action_due_date,
        created_at,
        row_number() over (partition by kpi_month_sk order by created_at desc, commentary_id desc) = 1 as is_latest
    from commentary
)

select * from final
