{#- Home Office FIRE1001 stores durations as Excel fractions of a day: 0.0056323 = 8.11 minutes. -#}
{% macro day_fraction_to_minutes(column) -%}
    ({{ column }} * 1440)
{%- endmacro %}
