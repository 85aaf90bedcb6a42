{{ config(
    materialized='incremental',
    unique_key=['service_id', 'financial_year', 'financial_quarter'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- Every KPI x unit x financial quarter, with target, RAG, year to date and the same quarter in
-- each of the four previous years (the quarterly review's five-year view).
-- Incremental by (service, quarter), as rpt_kpi_monthly is by month: the quarters holding a month
-- the KPI chain recomputed, and any quarter whose target or unit name differs from what the table
-- holds. A quarter's comparisons only look back, so the quarters four years before come from the
-- table itself when they are not rewritten.
with kpis as (
    select * from {{ ref('dim_kpi') }}
),

targets as (
    select * from {{ ref('int_kpi_targets_cascaded') }}
),

units as (
    select org_unit_id, max(org_unit_name) as org_unit_name, max(hierarchy) as hierarchy from {{ ref('dim_org_unit') }} group by org_unit_id
),

-- Target profiles (issue 21): a quarter's target is the annual target x its months' profiled shares.
profiles as (
    select * from {{ ref('int_kpi_target_profiles') }}
),

period_targets as (
    {{ period_targets('financial_quarter') }}
),

projections as (
    select * from {{ ref('int_kpi_projection') }}
),
{% if is_incremental() %}
held as (
    select * from {{ this }}
),

{{ report_changes_from_held('financial_quarter') }},

quarters_to_rewrite as (
    select distinct service_id, financial_year, financial_quarter
    from {{ ref('int_kpi_monthly_values') }}
    where (service_id, period_month) in (
        select service_id, period_month from {{ ref('int_kpi_months_to_recompute') }}
    )
    union
    select distinct service_id, financial_year, financial_quarter
    from held
    where (kpi_code, org_unit_id, financial_year) in (select kpi_code, org_unit_id, financial_year from changed_targets)
        or org_unit_id in (select org_unit_id from renamed_units)
),
{% endif %}

monthly as (
    select * from {{ ref('int_kpi_monthly_values') }}
    {%- if is_incremental() %}
    where (service_id, financial_year, financial_quarter) in (select * from quarters_to_rewrite)
    {%- endif %}
),

quarters as (
    select
        monthly.kpi_code,
        monthly.org_unit_id,
        monthly.org_level,
        monthly.service_id,
        monthly.financial_year,
        monthly.financial_quarter,
        min(monthly.period_month) as quarter_start_month,
        max(monthly.period_month) as quarter_last_month,
        count(*) as count_months,
        sum(monthly.numerator) as numerator,
        case
            when max(kpis.time_aggregation) = 'sum_over_mean' then avg(monthly.denominator)
            else sum(monthly.denominator)
        end as denominator,
        max(monthly.denominator_vintage) as denominator_vintage
    from monthly
    inner join kpis on monthly.kpi_code = kpis.kpi_code
    group by monthly.kpi_code, monthly.org_unit_id, monthly.org_level, monthly.service_id, monthly.financial_year, monthly.financial_quarter
),

valued as (
    select
        quarters.*,
        case
            when kpis.is_count then quarters.numerator
            else quarters.numerator / nullif(quarters.denominator, 0) * kpis.multiplier
        end as value,
        ytd.value_ytd,
        ytd.value_prior_ytd,
        kpis.polarity,
        kpis.tolerance_pct,
        kpis.is_small_count_spc,
        kpis.unit,
        kpis.priority_id,
        period_targets.target,
        period_targets.target_source,
        period_targets.target_profile_source
    from quarters
    inner join kpis on quarters.kpi_code = kpis.kpi_code
    left join monthly as ytd
        on quarters.kpi_code = ytd.kpi_code
        and quarters.org_unit_id = ytd.org_unit_id
        and quarters.quarter_last_month = ytd.period_month
    left join period_targets
        on quarters.kpi_code = period_targets.kpi_code
        and quarters.org_unit_id = period_targets.org_unit_id
        and quarters.financial_year = period_targets.financial_year
        and quarters.financial_quarter = period_targets.financial_quarter
),

{#- The values the five-year view looks back to: this run's quarters, and on an incremental run
    the held ones it does not rewrite. #}

lookback as (
    select kpi_code, org_unit_id, quarter_start_month, value from valued
    {%- if is_incremental() %}
    union all
    select kpi_code, org_unit_id, quarter_start_month, value
    from held
    where (service_id, financial_year, financial_quarter) not in (select * from quarters_to_rewrite)
    {%- endif %}
),

final as (
    select
        current_quarter.kpi_code || '|' || current_quarter.org_unit_id || '|' || current_quarter.financial_year
            || '|' || current_quarter.financial_quarter as kpi_quarter_sk,
        current_quarter.kpi_code,
        current_quarter.org_unit_id,
        current_quarter.org_level,
        -- 'organisation' (service, group, station, watch) or 'geography' (district, ward).
        units.hierarchy,
        current_quarter.service_id,
        current_quarter.priority_id,
        units.org_unit_name,
        current_quarter.financial_year,
        current_quarter.financial_quarter,
        current_quarter.financial_year || ' ' || current_quarter.financial_quarter as financial_quarter_label,
        current_quarter.quarter_start_month,
        current_quarter.count_months,
        current_quarter.count_months = 3 or current_quarter.kpi_code = 'PLAN_ON_TRACK_PCT' as is_complete_quarter,
        current_quarter.numerator,
        current_quarter.denominator,
        current_quarter.value,
        current_quarter.target,
        current_quarter.tolerance_pct as tolerance,
        current_quarter.target_source,
        case
            when {{ judged_by_spc_only('current_quarter') }} then null
            else {{ rag_status('current_quarter.value', 'current_quarter.target', 'current_quarter.polarity', 'current_quarter.tolerance_pct') }}
        end as rag_status,
        current_quarter.value - current_quarter.target as variance,
        current_quarter.value_ytd,
        current_quarter.value_prior_ytd,
        one_year_ago.value as value_1y_ago,
        two_years_ago.value as value_2y_ago,
        three_years_ago.value as value_3y_ago,
        four_years_ago.value as value_4y_ago,
        {{ direction_of_travel('current_quarter.value', 'one_year_ago.value', 'current_quarter.polarity') }} as direction_of_travel,
        current_quarter.denominator_vintage,
        current_quarter.unit,
        current_quarter.polarity,
        -- The dbt run that last wrote the quarter.
        '{{ invocation_id }}' as _invocation_id,
        -- Target profile, and the year-end projection as at the quarter's last month (issue 21).
        current_quarter.target_profile_source,
        projections.annual_target,
        projections.projected_value,
        projections.projected_lower_80,
        projections.projected_upper_80,
        projections.projection_outlook
    from valued as current_quarter
    left join units on current_quarter.org_unit_id = units.org_unit_id
    left join lookback as one_year_ago
        on current_quarter.kpi_code = one_year_ago.kpi_code
        and current_quarter.org_unit_id = one_year_ago.org_unit_id
        and one_year_ago.quarter_start_month = {{ add_months('current_quarter.quarter_start_month', -12) }}
    left join lookback as two_years_ago
        on current_quarter.kpi_code = two_years_ago.kpi_code
        and current_quarter.org_unit_id = two_years_ago.org_unit_id
        and two_years_ago.quarter_start_month = {{ add_months('current_quarter.quarter_start_month', -24) }}
    left join lookback as three_years_ago
        on current_quarter.kpi_code = three_years_ago.kpi_code
        and current_quarter.org_unit_id = three_years_ago.org_unit_id
        and three_years_ago.quarter_start_month = {{ add_months('current_quarter.quarter_start_month', -36) }}
    left join lookback as four_years_ago
        on current_quarter.kpi_code = four_years_ago.kpi_code
        and current_quarter.org_unit_id = four_years_ago.org_unit_id
        and four_years_ago.quarter_start_month = {{ add_months('current_quarter.quarter_start_month', -48) }}
    left join projections
        on current_quarter.kpi_code = projections.kpi_code
        and current_quarter.org_unit_id = projections.org_unit_id
        and current_quarter.quarter_last_month = projections.period_month
)

select * from final
