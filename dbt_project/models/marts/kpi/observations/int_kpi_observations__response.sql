-- Response-time KPIs at station x month, valid records only (Home Office exclusions applied);
-- incidents with no station ground are observed at their service. The same KPIs at ward x month
-- for the geography hierarchy (by the ward each incident is reported under).
with spine as (
    select * from {{ ref('int_station_months') }}
),

measured as (
    select * from {{ ref('int_response_by_station_month') }}
),

standards as (
    select distinct service_id from {{ ref('response_standards') }}
),

ward_spine as (
    select * from {{ ref('int_ward_months') }}
),

ward_measured as (
    select
        coalesce(lookup.ward_unit_id, measured.service_id || '-WARD-UNALLOCATED') as ward_unit_id,
        measured.period_month,
        sum(measured.dwelling_fire_minutes) as dwelling_fire_minutes,
        sum(measured.dwelling_fires_valid) as dwelling_fires_valid,
        sum(measured.within_standard) as within_standard,
        sum(measured.life_threatening_valid) as life_threatening_valid
    from {{ ref('int_response_by_ward_month') }} as measured
    left join {{ ref('int_ward_unit_lookup') }} as lookup on measured.ward_sk = lookup.ward_sk
    group by 1, 2
),

joined as (
    select
        spine.station_sk,
        spine.service_id,
        spine.period_month,
        coalesce(measured.dwelling_fire_minutes, 0) as dwelling_fire_minutes,
        coalesce(measured.dwelling_fires_valid, 0) as dwelling_fires_valid,
        -- A service without a response standard has no RESP_STD_MET_PCT: null (not recorded), not 0.
        case when spine.service_id in (select service_id from standards)
            then coalesce(measured.within_standard, 0) end as within_standard,
        coalesce(measured.life_threatening_valid, 0) as life_threatening_valid
    from spine
    left join measured
        on spine.station_sk = measured.station_sk
        and spine.period_month = measured.period_month
    union all
    -- Incidents with no station ground (or none of the service's stations) count at the service.
    select
        measured.service_id,
        measured.service_id,
        measured.period_month,
        coalesce(sum(measured.dwelling_fire_minutes), 0),
        sum(measured.dwelling_fires_valid),
        sum(measured.within_standard),
        sum(measured.life_threatening_valid)
    from measured
    left join spine
        on measured.station_sk = spine.station_sk
        and measured.period_month = spine.period_month
    where spine.station_sk is null
    group by measured.service_id, measured.period_month
    union all
    select
        ward_spine.ward_unit_id,
        ward_spine.service_id,
        ward_spine.period_month,
        coalesce(ward_measured.dwelling_fire_minutes, 0),
        coalesce(ward_measured.dwelling_fires_valid, 0),
        case when ward_spine.service_id in (select service_id from standards)
            then coalesce(ward_measured.within_standard, 0) end,
        coalesce(ward_measured.life_threatening_valid, 0)
    from ward_spine
    left join ward_measured
        on ward_spine.ward_unit_id = ward_measured.ward_unit_id
        and ward_spine.period_month = ward_measured.period_month
),

final as (
    select 'RESP_ADF_MEAN_MIN' as kpi_code, station_sk as org_unit_id, service_id, period_month, cast(dwelling_fire_minutes as double) as numerator, cast(dwelling_fires_valid as double) as denominator, cast(null as varchar) as denominator_vintage from joined
    union all select 'RESP_STD_MET_PCT', station_sk, service_id, period_month, within_standard, life_threatening_valid, null from joined
)

select * from final
