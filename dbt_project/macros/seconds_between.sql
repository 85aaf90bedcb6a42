{#- Elapsed seconds from start_at to end_at, null when either is null. Timestamp arithmetic
    differs by engine, so each adapter gets its own form. -#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'golden_thread')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    {{ dbt.datediff(start_at, end_at, 'second') }}
{%- endmacro %}

{#- epoch() keeps fractions of a second; date_diff('second', ...) would count boundaries. -#}
{% macro duckdb__seconds_between(start_at, end_at) -%}
    (epoch({{ end_at }}) - epoch({{ start_at }}))
{%- endmacro %}

{% macro postgres__seconds_between(start_at, end_at) -%}
    cast(extract(epoch from ({{ end_at }} - {{ start_at }})) as double precision)
{%- endmacro %}
