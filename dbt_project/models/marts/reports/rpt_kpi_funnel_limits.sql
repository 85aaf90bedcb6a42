-- The funnel's curves: for each service, financial quarter, KPI and comparison level in
-- rpt_kpi_funnel, its four control limits along a grid of 50 denominators spaced evenly on a log
-- scale from just below the smallest unit's denominator to just above the largest. The same macro
-- (funnel_limit) as the units' own limits, so the chart draws exactly the rule that names outliers.
{% set z_95 = 1.959964 %}
{% set z_998 = 3.090232 %}

with funnels as (
    select
        service_id,
        financial_year,
        financial_quarter,
        kpi_code,
        org_level,
        max(unit) as unit,
        max(multiplier) as multiplier,
        max(service_value) / max(multiplier) as pooled_proportion,
        max(service_value) as service_value,
        min(denominator) * 0.8 as smallest,
        max(denominator) * 1.25 as largest
    from {{ ref('rpt_kpi_funnel') }}
    group by service_id, financial_year, financial_quarter, kpi_code, org_level
),

digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

steps as (
    select tens.d * 10 + ones.d as step
    from digits as tens
    cross join digits as ones
    where tens.d < 5
),

grid as (
    select
        funnels.*,
        steps.step,
        funnels.smallest * power(funnels.largest / funnels.smallest, steps.step / 49.0) as denominator
    from funnels
    cross join steps
),

final as (
    select
        kpi_code || '|' || org_level || '|' || service_id || '|' || financial_year || '|' || financial_quarter
            || '|' || cast(step as varchar) as kpi_funnel_limit_sk,
        service_id,
        financial_year,
        financial_quarter,
        kpi_code,
        org_level,
        step,
        denominator,
        service_value,
        {{ funnel_limit('unit', 'pooled_proportion', 'denominator', -z_998) }} * multiplier as lower_limit_998,
        {{ funnel_limit('unit', 'pooled_proportion', 'denominator', -z_95) }} * multiplier as lower_limit_95,
        {{ funnel_limit('unit', 'pooled_proportion', 'denominator', z_95) }} * multiplier as upper_limit_95,
        {{ funnel_limit('unit', 'pooled_proportion', 'denominator', z_998) }} * multiplier as upper_limit_998
    from grid
)

select * from final
