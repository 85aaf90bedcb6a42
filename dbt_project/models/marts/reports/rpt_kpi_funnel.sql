-- Funnel plots for fair comparisons: for each service, financial quarter, rate or percentage KPI
-- and comparison level (every level below the service that rpt_kpi_monthly holds: group, station,
-- watch, and district and ward where they exist), each unit's numerator, denominator and rate over
-- the twelve months to the quarter's latest published month, the level's pooled rate (the ratio of
-- sums) and the 95 % and 99.8 % control limits at the unit's denominator (macro funnel_limit).
-- Twelve months rather than the year to date: counts at a station or ward are small, and a year
-- gives every quarter's funnel the same length of time (an annual rate, no seasonal mix, no reset
-- each April), so a unit's position does not depend on which quarter the review falls in.
{% set z_95 = 1.959964 %}
{% set z_998 = 3.090232 %}

with kpis as (
    select kpi_code, unit, multiplier, time_aggregation, polarity
    from {{ ref('dim_kpi') }}
    where unit in ('rate', 'percent')
),

monthly as (
    select
        monthly.service_id,
        monthly.kpi_code,
        monthly.org_level,
        monthly.org_unit_id,
        monthly.org_unit_name,
        monthly.period_month,
        monthly.financial_year,
        monthly.financial_quarter,
        monthly.numerator,
        monthly.denominator
    from {{ ref('rpt_kpi_monthly') }} as monthly
    inner join kpis on monthly.kpi_code = kpis.kpi_code
    where monthly.org_level <> 'service'
        -- Records with no known ward are no place to compare: not a point in the ward funnel.
        and monthly.org_unit_id not like '%-UNALLOCATED'
),

-- Each quarter ends at its latest published month (a quarter in progress: the months so far).
periods as (
    select service_id, financial_year, financial_quarter, max(period_month) as period_end_month
    from monthly
    group by service_id, financial_year, financial_quarter
),

-- A month whose input was not recorded, or that has no denominator, is left out of the twelve.
windowed as (
    select
        periods.service_id,
        periods.financial_year,
        periods.financial_quarter,
        periods.period_end_month,
        monthly.kpi_code,
        monthly.org_level,
        monthly.org_unit_id,
        max(monthly.org_unit_name) as org_unit_name,
        min(monthly.period_month) as period_start_month,
        count(*) as count_months,
        sum(monthly.numerator) as numerator,
        -- Stock denominators (population, FTE) are averaged over the months, flows are added.
        case
            when max(kpis.time_aggregation) = 'sum_over_mean' then avg(monthly.denominator)
            else sum(monthly.denominator)
        end as denominator
    from periods
    inner join monthly
        on periods.service_id = monthly.service_id
        and {{ add_months('periods.period_end_month', -12) }} < monthly.period_month
        and periods.period_end_month >= monthly.period_month
    inner join kpis on monthly.kpi_code = kpis.kpi_code
    where monthly.numerator is not null and monthly.denominator is not null
    group by
        periods.service_id, periods.financial_year, periods.financial_quarter, periods.period_end_month,
        monthly.kpi_code, monthly.org_level, monthly.org_unit_id
),

units as (
    select * from windowed where denominator > 0
),

-- The level's rate: the sum of its units' numerators over the sum of their denominators.
pooled as (
    select
        service_id,
        financial_year,
        financial_quarter,
        kpi_code,
        org_level,
        count(*) as count_units,
        sum(numerator) / sum(denominator) as pooled_proportion
    from units
    group by service_id, financial_year, financial_quarter, kpi_code, org_level
),

limited as (
    select
        units.*,
        kpis.unit,
        kpis.multiplier,
        kpis.polarity,
        pooled.count_units,
        pooled.pooled_proportion,
        units.numerator / units.denominator as proportion,
        {{ funnel_limit('kpis.unit', 'pooled.pooled_proportion', 'units.denominator', -z_998) }} as lower_998,
        {{ funnel_limit('kpis.unit', 'pooled.pooled_proportion', 'units.denominator', -z_95) }} as lower_95,
        {{ funnel_limit('kpis.unit', 'pooled.pooled_proportion', 'units.denominator', z_95) }} as upper_95,
        {{ funnel_limit('kpis.unit', 'pooled.pooled_proportion', 'units.denominator', z_998) }} as upper_998
    from units
    inner join kpis on units.kpi_code = kpis.kpi_code
    inner join pooled
        on units.service_id = pooled.service_id
        and units.financial_year = pooled.financial_year
        and units.financial_quarter = pooled.financial_quarter
        and units.kpi_code = pooled.kpi_code
        and units.org_level = pooled.org_level
),

final as (
    select
        kpi_code || '|' || org_unit_id || '|' || financial_year || '|' || financial_quarter as kpi_funnel_sk,
        service_id,
        financial_year,
        financial_quarter,
        kpi_code,
        org_level,
        org_unit_id,
        org_unit_name,
        period_start_month,
        period_end_month,
        count_months,
        numerator,
        denominator,
        proportion * multiplier as value,
        pooled_proportion * multiplier as service_value,
        count_units,
        pooled_proportion * denominator as expected_numerator,
        case unit when 'percent' then 'binomial' else 'poisson' end as limit_method,
        lower_998 * multiplier as lower_limit_998,
        lower_95 * multiplier as lower_limit_95,
        upper_95 * multiplier as upper_limit_95,
        upper_998 * multiplier as upper_limit_998,
        -- Compared on the proportion scale, before the multiplier, so rounding cannot move a unit.
        {{ funnel_position('proportion', 'lower_998', 'lower_95', 'upper_95', 'upper_998') }} as funnel_position,
        unit,
        multiplier,
        polarity
    from limited
)

select * from final
