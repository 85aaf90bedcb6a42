{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- Every catalogue KPI at its lowest grain: numerator and denominator per unit and month.
-- Rates are never stored alone: every roll-up sums these.
-- Incremental by comparison: recomputed from the station-month aggregates and spines, and only
-- the (service, month) groups that differ from what the table holds are rewritten. That catches
-- a new month, a re-delivered one, and history restated by a new HR or reference extract.
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

select
    *,
    -- The dbt run that last wrote the month: the KPI chain above recomputes from these months.
    '{{ invocation_id }}' as _invocation_id
from final
{{ changed_groups_only('final', ['service_id', 'period_month'], row_key='kpi_observation_sk') }}
