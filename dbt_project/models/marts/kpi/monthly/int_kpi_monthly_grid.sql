{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- Every KPI x every organisation unit at every level where the KPI is meaningful (and every
-- district and ward for the KPIs about places) x every month the service reports that KPI:
-- the rows a report must show even when nothing happened.
with kpis as (
    select * from {{ ref('dim_kpi') }}
),

units as (
    select distinct org_unit_id, org_level, org_level_rank, hierarchy, service_id from {{ ref('dim_org_unit') }}
),

unit_months as (
    select distinct period_month, org_unit_id
    from {{ ref('int_org_unit_ancestry_monthly') }}
    where org_unit_id = ancestor_org_unit_id
),

reported as (
    select distinct kpi_code, service_id, period_month from {{ ref('fct_kpi_observations') }}
    where {{ in_kpi_recompute_months() }}
),

final as (
    select
        reported.kpi_code,
        units.org_unit_id,
        units.org_level,
        units.service_id,
        reported.period_month,
        '{{ invocation_id }}' as _invocation_id
    from reported
    inner join kpis on reported.kpi_code = kpis.kpi_code
    inner join units
        on reported.service_id = units.service_id
        -- Organisation units from the KPI's lowest level up; districts and wards for the KPIs
        -- about places only.
        and (
            (units.hierarchy = 'organisation' and kpis.lowest_level_rank <= units.org_level_rank)
            or (units.hierarchy = 'geography' and kpis.is_reported_by_place)
        )
    inner join unit_months
        on units.org_unit_id = unit_months.org_unit_id
        and reported.period_month = unit_months.period_month
)

select * from final
