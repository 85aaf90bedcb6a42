{#- Records counted in int_dq_records_by_station_month, over the rows matching ``condition``: 0, not
    null, where none match (as count(*) would give over one row per record). -#}
{% macro sum_records(condition=none) -%}
    cast(coalesce(sum(count_records){% if condition %} filter (where {{ condition }}){% endif %}, 0) as bigint)
{%- endmacro %}
