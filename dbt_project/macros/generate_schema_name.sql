{#- Use the configured schema name as is (staging, marts, ...) rather than prefixing it with
    the target schema: analysts query marts.rpt_kpi_monthly, not main_marts.rpt_kpi_monthly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
