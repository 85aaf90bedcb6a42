-- Incident KPIs at station x month: numerator and denominator, zeros where nothing happened.
with spine as (
    select * from {{ ref('int_station_months') }}
),

counts as (
    select * from {{ ref('int_incidents_by_station_month') }}
),

joined as (
    select
        spine.*,
        coalesce(counts.incidents, 0) as incidents,
        coalesce(counts.primary_fires, 0) as primary_fires,
        coalesce(counts.adfs, 0) as adfs,
        coalesce(counts.adfs_confined, 0) as adfs_confined,
        coalesce(counts.adf_injuries, 0) as adf_injuries,
        coalesce(counts.fire_deaths, 0) as fire_deaths,
        coalesce(counts.afa_non_domestic, 0) as afa_non_domestic,
        coalesce(counts.deliberate_primary, 0) as deliberate_primary,
        coalesce(counts.deliberate_vehicle, 0) as deliberate_vehicle,
        coalesce(counts.rtcs, 0) as rtcs
    from spine
    left join counts
        on spine.station_sk = counts.station_sk
        and spine.period_month = counts.period_month
),

final as (
    select 'INC_TOTAL' as kpi_code, station_sk as org_unit_id, service_id, period_month, cast(incidents as double) as numerator, cast(null as double) as denominator, cast(null as varchar) as denominator_vintage from joined
    union all select 'PRI_FIRES_10K', station_sk, service_id, period_month, primary_fires, population, denominator_vintage from joined
    union all select 'ADF_10K_DWELL', station_sk, service_id, period_month, adfs, dwellings, denominator_vintage from joined
    union all select 'ADF_INJ_100K', station_sk, service_id, period_month, adf_injuries, population, denominator_vintage from joined
    union all select 'FIRE_DEATHS', station_sk, service_id, period_month, fire_deaths, null, null from joined
    union all select 'ADF_CONFINED_PCT', station_sk, service_id, period_month, adfs_confined, adfs, null from joined
    union all select 'AFA_1K_NONDOM', station_sk, service_id, period_month, afa_non_domestic, non_domestic_properties, denominator_vintage from joined
    union all select 'DELIB_PRI_10K', station_sk, service_id, period_month, deliberate_primary, population, denominator_vintage from joined
    union all select 'DELIB_VEH_10K', station_sk, service_id, period_month, deliberate_vehicle, population, denominator_vintage from joined
    union all select 'RTC_ATTENDED', station_sk, service_id, period_month, rtcs, null, null from joined
)

select * from final
