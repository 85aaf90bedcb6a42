{#- The one pass over a record-level fact that a family of KPIs needs, per place and month: by
    station (the organisation hierarchy) or by the ward on the record (the geography hierarchy).
    Both hierarchies count with the same SQL, so a KPI's rule cannot drift between them. -#}

{#- The incident counts incident_counts_by gives, in order: the KPI models carry them as one list. -#}
{% macro incident_count_columns() -%}
    {{ return(['incidents', 'primary_fires', 'adfs', 'adfs_confined_base', 'adfs_confined', 'adf_injuries', 'fire_deaths', 'afa_non_domestic', 'deliberate_primary', 'deliberate_vehicle', 'rtcs']) }}
{%- endmacro %}

{#- Incident counts per place and month over fct_incidents' KPI marks (is_counted_for_<kpi>). -#}
{% macro incident_counts_by(place_column) %}
with incidents as (
    select * from {{ ref('fct_incidents') }}
    {{ changed_months_filter([ref('fct_incidents')], 'period_month') }}
),

final as (
    select
        {{ place_column }},
        service_id,
        period_month,
        -- Each count is over the records fct_incidents marks for its KPI (is_counted_for_<kpi>).
        count(*) filter (where is_counted_for_inc_total) as incidents,
        count(*) filter (where is_counted_for_pri_fires_10k) as primary_fires,
        count(*) filter (where is_counted_for_adf_10k_dwell) as adfs,
        count(*) filter (where is_counted_for_adf_confined_pct) as adfs_confined_base,
        count(*) filter (where is_counted_for_adf_confined_pct and is_confined_to_room) as adfs_confined,
        coalesce(sum(count_injuries_excl_precautionary) filter (where is_counted_for_adf_inj_100k), 0) as adf_injuries,
        coalesce(sum(count_fatalities) filter (where is_counted_for_fire_deaths), 0) as fire_deaths,
        count(*) filter (where is_counted_for_afa_1k_nondom) as afa_non_domestic,
        count(*) filter (where is_counted_for_delib_pri_10k) as deliberate_primary,
        count(*) filter (where is_counted_for_delib_veh_10k) as deliberate_vehicle,
        count(*) filter (where is_counted_for_rtc_attended) as rtcs,
        -- Recorded values of the columns a service's extract may lack: none in a service's month
        -- makes the KPIs that need them "not recorded" (int_kpi_observations__incidents).
        count(is_confined_to_room) as count_confined_recorded,
        count(count_injuries_excl_precautionary) as count_injuries_recorded,
        count(count_fatalities) as count_fatalities_recorded,
        count(motive) as count_motive_recorded,
        max(_batch_id) as _batch_id,
        -- The dbt run that last wrote the month: an audit trail of what each close recomputed.
        '{{ invocation_id }}' as _invocation_id
    from incidents
    group by {{ place_column }}, service_id, period_month
)

select * from final
{% endmacro %}

{#- Valid response times (Home Office exclusions applied) per place and month, with each service's
    response standard (a changed response_standards seed needs a run over every month). -#}
{% macro response_sums_by(place_column) %}
with response as (
    select * from {{ ref('fct_incident_response') }}
    {{ changed_months_filter([ref('fct_incident_response')], 'period_month') }}
),

standards as (
    select service_id, standard_seconds from {{ ref('response_standards') }}
),

final as (
    select
        response.{{ place_column }},
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
    group by response.{{ place_column }}, response.service_id, response.period_month
)

select * from final
{% endmacro %}
