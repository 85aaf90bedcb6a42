{#- Use the configured schema name as is (staging, marts, ...) rather than prefixing it with
    the target schema: analysts query marts.rpt_kpi_monthly, not main_marts.rpt_kpi_monthly.
    An int_* model is a building block of its layer, read by later models and never published:
    it lives in schema intermediate whichever layer's folder holds it (dbt_project.yml). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if node.resource_type == 'model' and node.name.startswith('int_') -%}
        intermediate
    {%- else -%}
        {{ (custom_schema_name or target.schema) | trim }}
    {%- endif -%}
{%- endmacro %}
