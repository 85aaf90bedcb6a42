{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- Incident counts per ward as recorded and month (ward_sk null: no ward recorded), for the
-- geography hierarchy: the same counts as int_incidents_by_station_month, by the ward on the
-- record. Incremental by month like the fact. Old ward codes are mapped to their successors
-- later (int_kpi_observations__incidents), so a new boundary review rewrites nothing here.
{{ incident_counts_by('ward_sk') }}
