with source as (
    select * from {{ source('audit', 'ingestion_log') }}
),

renamed as (
    select
        batch_id,
        system,
        entity,
        raw_table,
        service_id,
        file_name,
        file_sha256,
        status,
        revision,
        case when period like '____-__' and length(period) = 7 then cast(period || '-01' as date) end as period_month,
        rows_received,
        rows_loaded,
        rows_quarantined,
        started_at,
        finished_at
    from source
)

select * from renamed
