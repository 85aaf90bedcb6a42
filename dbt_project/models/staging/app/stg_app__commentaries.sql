with source as (
    select * from {{ source('app', 'commentary') }}
),

renamed as (
    select
        cast(commentary_id as bigint) as commentary_id,
        kpi_code || '|' || org_unit_id || '|' || cast(period_month as varchar) as kpi_month_sk,
        service_id,
        kpi_code,
        org_unit_id,
        cast(period_month as date) as period_month,
        author_key,
        commentary,
        action,
        action_owner_key,
        action_due_date,
        created_at,
        _source_file,
        _source_row,
        _batch_id
    from source
)

select * from renamed
