{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- Every KPI x every organisation unit at every level where it is meaningful x month, with
-- target, RAG, variance, year to date, direction of travel and SPC signal. The one table the
-- monthly snapshot, analysts and exports read.
-- Incremental: the months the KPI chain recomputed (int_kpi_months_to_recompute), and any month
-- whose target, data-quality mark or unit name differs from what the table holds (targets and
-- data-quality marks are small tables, recomputed in full and compared here).
with targets as (
    select * from {{ ref('int_kpi_targets_cascaded') }}
),

spc as (
    select * from {{ ref('int_kpi_monthly_spc') }}
),

data_quality as (
    select * from {{ ref('int_kpi_monthly_dq') }}
),

kpis as (
    select * from {{ ref('dim_kpi') }}
),

units as (
    select org_unit_id, max(org_unit_name) as org_unit_name, max(hierarchy) as hierarchy from {{ ref('dim_org_unit') }} group by org_unit_id
),

-- Target profiles (issue 21): each month's target and YTD target from the profiled shares of the year.
profiles as (
    select * from {{ ref('int_kpi_target_profiles') }}
),

period_targets as (
    {{ period_targets('period_month') }}
),

projections as (
    select * from {{ ref('int_kpi_projection') }}
),
{% if is_incremental() %}
held as (
    select * from {{ this }}
),

{{ report_changes_from_held('period_month') }},

held_marks as (
    select kpi_code, org_unit_id, period_month, dq_status, dq_note, dq_records_affected
    from held
    where dq_status <> 'pass' or dq_note is not null or dq_records_affected <> 0
),

expected_marks as (
    select kpi_code, org_unit_id, period_month, dq_status, dq_note, dq_records_affected from data_quality
),

changed_marks as (
    {{ keys_that_differ('expected_marks', 'held_marks', ['kpi_code', 'org_unit_id', 'period_month']) }}
),

months_to_rewrite as (
    select service_id, period_month from {{ ref('int_kpi_months_to_recompute') }}
    union
    -- One pass over what the table holds for the three kinds of change.
    select distinct service_id, period_month
    from held
    where (kpi_code, org_unit_id, financial_year) in (select kpi_code, org_unit_id, financial_year from changed_targets)
        or (kpi_code, org_unit_id, period_month) in (select kpi_code, org_unit_id, period_month from changed_marks)
        or org_unit_id in (select org_unit_id from renamed_units)
),
{% endif %}

monthly as (
    select * from {{ ref('int_kpi_monthly_values') }}
    {%- if is_incremental() %}
    where (service_id, period_month) in (select service_id, period_month from months_to_rewrite)
    {%- endif %}
),

targeted as (
    select
        monthly.*,
        kpis.polarity,
        kpis.tolerance_pct,
        kpis.unit,
        kpis.is_small_count_spc,
        kpis.priority_id,
        period_targets.target,
        period_targets.target_ytd,
        period_targets.target_source,
        period_targets.target_profile_source
    from monthly
    inner join kpis on monthly.kpi_code = kpis.kpi_code
    left join period_targets
        on monthly.kpi_code = period_targets.kpi_code
        and monthly.org_unit_id = period_targets.org_unit_id
        and monthly.period_month = period_targets.period_month
),

final as (
    select
        targeted.kpi_code || '|' || targeted.org_unit_id || '|' || cast(targeted.period_month as varchar) as kpi_month_sk,
        targeted.kpi_code,
        targeted.org_unit_id,
        targeted.org_level,
        -- 'organisation' (service, group, station, watch) or 'geography' (district, ward).
        units.hierarchy,
        targeted.service_id,
        targeted.priority_id,
        units.org_unit_name,
        targeted.period_month,
        targeted.financial_year,
        targeted.financial_quarter,
        targeted.numerator,
        targeted.denominator,
        targeted.value,
        -- 'not recorded' or 'no ward denominators' where the value is missing for a reason.
        targeted.value_note,
        targeted.target,
        targeted.tolerance_pct as tolerance,
        targeted.target_source,
        -- Small counts (deaths, injuries) are judged by SPC; no RAG below service level.
        case
            when {{ judged_by_spc_only('targeted') }} then null
            else {{ rag_status('targeted.value', 'targeted.target', 'targeted.polarity', 'targeted.tolerance_pct') }}
        end as rag_status,
        targeted.value - targeted.target as variance,
        targeted.numerator_ytd,
        targeted.denominator_ytd,
        targeted.value_ytd,
        targeted.target_ytd,
        case
            when {{ judged_by_spc_only('targeted') }} then null
            else {{ rag_status('targeted.value_ytd', 'targeted.target_ytd', 'targeted.polarity', 'targeted.tolerance_pct') }}
        end as rag_status_ytd,
        targeted.value_prior_ytd,
        targeted.value_same_month_last_year,
        {{ direction_of_travel('targeted.value', 'targeted.value_same_month_last_year', 'targeted.polarity') }} as direction_of_travel,
        spc.spc_centre_line,
        spc.spc_lower_limit,
        spc.spc_upper_limit,
        spc.spc_signal,
        targeted.denominator_vintage,
        coalesce(data_quality.dq_status, 'pass') as dq_status,
        data_quality.dq_note,
        coalesce(data_quality.dq_records_affected, 0) as dq_records_affected,
        targeted.unit,
        targeted.polarity,
        -- The dbt run that last wrote the month.
        '{{ invocation_id }}' as _invocation_id,
        -- Target profile and year-end projection (issue 21), int_kpi_target_profiles / int_kpi_projection.
        targeted.target_profile_source,
        projections.annual_target,
        projections.projected_value,
        projections.projected_lower_80,
        projections.projected_upper_80,
        projections.projection_outlook
    from targeted
    left join units on targeted.org_unit_id = units.org_unit_id
    left join spc
        on targeted.kpi_code = spc.kpi_code
        and targeted.org_unit_id = spc.org_unit_id
        and targeted.period_month = spc.period_month
    left join data_quality
        on targeted.kpi_code = data_quality.kpi_code
        and targeted.org_unit_id = data_quality.org_unit_id
        and targeted.period_month = data_quality.period_month
    left join projections
        on targeted.kpi_code = projections.kpi_code
        and targeted.org_unit_id = projections.org_unit_id
        and targeted.period_month = projections.period_month
)

select * from final
