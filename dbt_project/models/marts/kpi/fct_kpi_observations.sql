-- Every catalogue KPI at its lowest grain: numerator and denominator per unit and month.
-- Rates are never stored alone: every roll-up sums these.
with unioned as (
    select * from {{ ref('int_kpi_observations__incidents') }}
    union all select * from {{ ref('int_kpi_observations__response') }}
    union all select * from {{ ref('int_kpi_observations__activity') }}
    union all select * from {{ ref('int_kpi_observations__people') }}
    union all select * from {{ ref('int_kpi_observations__assurance') }}
),

final as (
    select
        kpi_code || '|' || org_unit_id || '|' || cast(period_month as varchar) as kpi_observation_sk,
        kpi_code,
        org_unit_id,
        service_id,
        period_month,
        numerator,
        denominator,
        denominator_vintage
    from unioned
    where period_month < {{ as_of_month() }}
)

select * from final
