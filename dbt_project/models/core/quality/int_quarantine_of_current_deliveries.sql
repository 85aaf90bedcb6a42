-- The quarantined rows of the monthly source systems that count against a service's data quality:
-- those of each month's current delivery, and of the latest attempt after it that never became
-- current (a refused file, or a copy) until a later delivery replaces it. The quarantine of a
-- superseded delivery, of a refused file a good re-delivery replaced, and of a held re-delivery
-- (not current unless a person accepts it) no longer counts.
with quarantine as (
    select * from {{ source('audit', 'quarantine') }}
),

monthly_log as (
    select batch_id, raw_table, service_id, period, revision, status
    from {{ source('audit', 'ingestion_log') }}
    where period like '____-__' and length(period) = 7
),

current_deliveries as (
    select
        current_deliveries.raw_table,
        current_deliveries.service_id,
        deliveries.period,
        deliveries.revision,
        current_deliveries.batch_id
    from {{ source('audit', 'current_deliveries') }} as current_deliveries
    inner join {{ source('audit', 'raw_deliveries') }} as deliveries
        on current_deliveries.raw_table = deliveries.raw_table
        and current_deliveries.service_id is not distinct from deliveries.service_id
        and current_deliveries.batch_id = deliveries.batch_id
),

log_with_current as (
    select
        monthly_log.*,
        current_deliveries.batch_id as current_batch_id,
        current_deliveries.revision as current_revision
    from monthly_log
    left join current_deliveries
        on monthly_log.raw_table = current_deliveries.raw_table
        and monthly_log.service_id is not distinct from current_deliveries.service_id
        and monthly_log.period = current_deliveries.period
),

later_attempts as (
    select
        *,
        row_number() over (
            partition by raw_table, service_id, period order by revision desc, batch_id desc
        ) as attempt_rank
    from log_with_current
    where status <> 'held'
        and (
            current_batch_id is null
            or revision > current_revision
            or (revision = current_revision and batch_id > current_batch_id)
        )
),

counted_batches as (
    select batch_id, period from log_with_current where batch_id = current_batch_id
    union all
    select batch_id, period from later_attempts where attempt_rank = 1
),

final as (
    select
        quarantine.batch_id,
        quarantine.system,
        quarantine.service_id,
        quarantine.raw_text,
        cast(counted_batches.period || '-01' as date) as period_month
    from quarantine
    inner join counted_batches on quarantine.batch_id = counted_batches.batch_id
)

select * from final
