{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- Incident counts per ward as recorded and month (ward_sk null: no ward recorded), for the
-- geography hierarchy: the same counts as int_incidents_by_station_month, by the ward on the
-- record. Incremental by month like the fact. Old ward codes are mapped to their successors
-- later (int_kpi_observations__incidents), so a new boundary review rewrites nothing here.
with incidents as (
    select * from {{ ref('fct_incidents') }}
    {{ changed_months_filter([ref('fct_incidents')], 'period_month') }}
),

final as (
    select
        ward_sk,
        service_id,
        period_month,
        -- Each count is over the records fct_incidents marks for its KPI (is_counted_for_<kpi>).
        count(*) filter (where is_counted_for_inc_total) as incidents,
        count(*) filter (where is_counted_for_pri_fires_10k) as primary_fires,
        count(*) filter (where is_counted_for_adf_10k_dwell) as adfs,
        count(*) filter (where is_counted_for_adf_confined_pct) as adfs_confined_base,
        count(*) filter (where is_counted_for_adf_confined_pct and is_confined_to_room) as adfs_confined,
        coalesce(sum(count_injuries_excl_precautionary) filter (where is_counted_for_adf_inj_100k), 0) as adf_injuries,
        coalesce(sum(count_fatalities) filter (where is_counted_for_fire_deaths), 0) as fire_deaths,
        count(*) filter (where is_counted_for_afa_1k_nondom) as afa_non_domestic,
        count(*) filter (where is_counted_for_delib_pri_10k) as deliberate_primary,
        count(*) filter (where is_counted_for_delib_veh_10k) as deliberate_vehicle,
        count(*) filter (where is_counted_for_rtc_attended) as rtcs,
        -- Recorded values of the columns a service's extract may lack: none in a service's month
        -- makes the KPIs that need them "not recorded" (int_kpi_observations__incidents).
        count(is_confined_to_room) as count_confined_recorded,
        count(count_injuries_excl_precautionary) as count_injuries_recorded,
        count(count_fatalities) as count_fatalities_recorded,
        count(motive) as count_motive_recorded,
        max(_batch_id) as _batch_id,
        -- The dbt run that last wrote the month: an audit trail of what each close recomputed.
        '{{ invocation_id }}' as _invocation_id
    from incidents
    group by ward_sk, service_id, period_month
)

select * from final
