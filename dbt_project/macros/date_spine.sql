{#- One row per day between two dates inclusive, column date_day. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(range as date) as date_day
    from range(date '{{ start_date }}', date '{{ end_date }}' + interval 1 day, interval 1 day)
{%- endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    select cast(d as date) as date_day
    from generate_series(date '{{ start_date }}', date '{{ end_date }}', interval '1 day') as d
{%- endmacro %}
