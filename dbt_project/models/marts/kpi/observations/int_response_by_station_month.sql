{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- Valid response times per station and month (Home Office exclusions applied): the one pass over
-- fct_incident_response that the response KPIs need, incremental by month like the fact. It
-- applies each service's response standard, so a changed response_standards seed needs a run
-- over every month (`python -m orchestration.cli pipeline --full`).
{{ response_sums_by('station_sk') }}
