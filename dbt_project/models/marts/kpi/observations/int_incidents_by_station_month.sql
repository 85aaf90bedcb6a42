{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- Incident counts per station and month (station_sk null: incidents with no station ground,
-- which count at service level only): the one pass over fct_incidents that the incident KPIs
-- need, incremental by month like the fact itself, so a monthly close aggregates only the months
-- it changed. Denominators are joined later (int_kpi_observations__incidents), from the spine.
{{ incident_counts_by('station_sk') }}
