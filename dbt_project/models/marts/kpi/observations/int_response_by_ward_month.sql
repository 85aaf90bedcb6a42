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
{{ response_sums_by('ward_sk') }}
