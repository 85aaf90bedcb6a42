-- Response-time KPIs at station x month, valid records only (Home Office exclusions applied);
-- incidents with no station ground are observed at their service.
with spine as (
    select * from {{ ref('int_station_months') }}
),

measured as (
    select * from {{ ref('int_response_by_station_month') }}
),

joined as (
    select
        spine.station_sk,
        spine.service_id,
        spine.period_month,
        coalesce(measured.dwelling_fire_minutes, 0) as dwelling_fire_minutes,
        coalesce(measured.dwelling_fires_valid, 0) as dwelling_fires_valid,
        coalesce(measured.within_standard, 0) as within_standard,
        coalesce(measured.life_threatening_valid, 0) as life_threatening_valid
    from spine
    left join measured
        on spine.station_sk = measured.station_sk
        and spine.period_month = measured.period_month
    union all
    -- Incidents with no station ground count at their service directly.
    select
        service_id,
        service_id,
        period_month,
        coalesce(dwelling_fire_minutes, 0),
        dwelling_fires_valid,
        within_standard,
        life_threatening_valid
    from measured
    where station_sk is null
),

final as (
    select 'RESP_ADF_MEAN_MIN' as kpi_code, station_sk as org_unit_id, service_id, period_month, cast(dwelling_fire_minutes as double) as numerator, cast(dwelling_fires_valid as double) as denominator, cast(null as varchar) as denominator_vintage from joined
    union all select 'RESP_STD_MET_PCT', station_sk, service_id, period_month, within_standard, life_threatening_valid, null from joined
)

select * from final
