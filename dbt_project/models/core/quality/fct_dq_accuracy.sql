-- Records received and records passing every blocking check, by source system, station (or
-- the service, where a refused row's station could not be read) and month: the figures behind
-- DQ_ACCURACY_PCT, showing which stations' data entry needs attention.
with records as (
    select * from {{ ref('int_dq_records_by_station_month') }}
),

final as (
    select
        system || '|' || coalesce(station_sk, service_id) || '|' || cast(period_month as varchar) as dq_accuracy_sk,
        system,
        service_id,
        coalesce(station_sk, service_id) as org_unit_id,
        period_month,
        {{ sum_records() }} as count_received,
        {{ sum_records("outcome in ('clean', 'flagged_warning')") }} as count_passing,
        {{ sum_records("outcome = 'flagged_warning'") }} as count_flagged_warning,
        {{ sum_records("outcome = 'flagged_blocking'") }} as count_flagged_blocking,
        {{ sum_records("outcome = 'quarantined'") }} as count_quarantined
    from records
    group by system, service_id, coalesce(station_sk, service_id), period_month
)

select * from final
