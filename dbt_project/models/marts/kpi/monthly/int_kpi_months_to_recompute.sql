-- The months the KPI chain recomputes in this run, per service: every reporting month from the
-- first one whose observations (fct_kpi_observations) or hierarchy (int_org_unit_ancestry_monthly)
-- this run rewrote, and every month the run closes (months_from, when Dagster passes it).
-- YTD, last year's comparisons and SPC limits only look back, so nothing earlier can change.
-- On a full build every observation is new, so every month of every service is listed.
with observations as (
    select service_id, min(period_month) as from_month
    from {{ ref('fct_kpi_observations') }}
    where _invocation_id = '{{ invocation_id }}'
    group by service_id
),

services as (
    select distinct service_id from {{ ref('fct_kpi_observations') }}
),

hierarchy as (
    select services.service_id, changed.from_month
    from (
        select min(period_month) as from_month
        from {{ ref('int_org_unit_ancestry_monthly') }}
        where _invocation_id = '{{ invocation_id }}'
    ) as changed
    cross join services
    where changed.from_month is not null
),

{% if months_from() %}
closing as (
    select service_id, cast('{{ months_from() }}' as date) as from_month from services
),
{% endif %}

starts as (
    select service_id, min(from_month) as from_month
    from (
        select * from observations
        union all select * from hierarchy
        {% if months_from() %}union all select * from closing{% endif %}
    ) as changes
    group by service_id
),

final as (
    select
        starts.service_id,
        months.period_month,
        starts.from_month
    from starts
    inner join {{ ref('int_reporting_months') }} as months
        on starts.from_month <= months.period_month
)

select * from final
