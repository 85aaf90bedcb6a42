{#- A top-level text field of a JSON document held in a varchar column. -#}
{% macro json_text_field(column, field) -%}
    {{ return(adapter.dispatch('json_text_field')(column, field)) }}
{%- endmacro %}
{% macro duckdb__json_text_field(column, field) -%}
    json_extract_string(try_cast({{ column }} as json), '$.{{ field }}')
{%- endmacro %}
{% macro default__json_text_field(column, field) -%}
    (case when left({{ column }}, 1) = '{' then cast({{ column }} as json) ->> '{{ field }}' end)
{%- endmacro %}
