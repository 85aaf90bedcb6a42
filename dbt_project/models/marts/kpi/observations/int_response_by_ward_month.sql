{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- Valid response times per ward as recorded and month (Home Office exclusions applied), for the
-- geography hierarchy: the same sums as int_response_by_station_month, by the incident's ward;
-- incremental by month like the fact. It
-- applies each service's response standard, so a changed response_standards seed needs a run
-- over every month (`python -m orchestration.cli pipeline --full`).
with response as (
    select * from {{ ref('fct_incident_response') }}
    {{ changed_months_filter([ref('fct_incident_response')], 'period_month') }}
),

standards as (
    select service_id, standard_seconds from {{ ref('response_standards') }}
),

final as (
    select
        response.ward_sk,
        response.service_id,
        response.period_month,
        -- Each over the records fct_incident_response marks for its KPI (is_counted_for_<kpi>: valid
        -- response times of the incidents in the KPI's scope).
        sum(response.total_response_seconds / 60.0) filter (where response.is_counted_for_resp_adf_mean_min) as dwelling_fire_minutes,
        count(*) filter (where response.is_counted_for_resp_adf_mean_min) as dwelling_fires_valid,
        -- A service with no response standard (seeds/response_standards.csv) has nothing to meet:
        -- null, shown as not recorded, never 0 %.
        case when max(standards.standard_seconds) is not null then
            count(*) filter (where response.is_counted_for_resp_std_met_pct
                and response.total_response_seconds <= standards.standard_seconds)
        end as within_standard,
        count(*) filter (where response.is_counted_for_resp_std_met_pct) as life_threatening_valid,
        max(response._batch_id) as _batch_id,
        -- The dbt run that last wrote the month: an audit trail of what each close recomputed.
        '{{ invocation_id }}' as _invocation_id
    from response
    left join standards on response.service_id = standards.service_id
    group by response.ward_sk, response.service_id, response.period_month
)

select * from final
