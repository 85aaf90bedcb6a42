{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- Roll every observation up to each of its ancestors as they were that month by adding
-- numerators and denominators: a group's rate is the ratio of its sums, never a mean of
-- station rates. Incremental: only the months int_kpi_months_to_recompute lists.
with observations as (
    select * from {{ ref('fct_kpi_observations') }}
    where {{ in_kpi_recompute_months() }}
),

ancestry as (
    select * from {{ ref('int_org_unit_ancestry_monthly') }}
),

final as (
    select
        observations.kpi_code,
        ancestry.ancestor_org_unit_id as org_unit_id,
        ancestry.ancestor_level as org_level,
        observations.service_id,
        observations.period_month,
        sum(observations.numerator) as numerator,
        sum(observations.denominator) as denominator,
        max(observations.denominator_vintage) as denominator_vintage,
        count(*) as count_observations,
        '{{ invocation_id }}' as _invocation_id
    from observations
    inner join ancestry
        on observations.org_unit_id = ancestry.org_unit_id
        and observations.period_month = ancestry.period_month
    group by
        observations.kpi_code,
        ancestry.ancestor_org_unit_id,
        ancestry.ancestor_level,
        observations.service_id,
        observations.period_month
)

select * from final
