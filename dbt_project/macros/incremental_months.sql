{#- Incremental by month: on an incremental run, keep only the (service, month) pairs that
    hold a batch newer than anything already in this model (in any of ``relations``), and every
    month the run closes (``months_from`` up to the cut-off: a Dagster run passes its partitions'
    first month). A re-delivered month comes through whole (raw_current shows only its latest
    delivery), and replace_groups on (service_id, period_month) replaces the month, so withdrawn
    records disappear too. ``relation_month`` names the month column in ``relations``;
    ``month_column`` the one in the model's input, when it differs.

    ``whole_services_of``: relations a row's placement depends on (a station list that places
    records at watches). A service with a batch in any of them newer than the model's newest
    has every month recomputed. Batch ids are one sequence across sources, so that batch arrived
    after the last build. -#}
{% macro changed_months_filter(relations, relation_month, month_column=none, whole_services_of=[]) -%}
    {% if is_incremental() %}

    {%- set month_column = month_column or relation_month -%}
    {%- set newest_held = "(select coalesce(max(held._batch_id), 0) from " ~ this ~ " as held)" -%}
    where (service_id, {{ month_column }}) in (
        {%- for relation in relations %}
        select service_id, {{ relation_month }}
        from {{ relation }}
        where _batch_id > {{ newest_held }}
        {% if not loop.last %}union{% endif %}
        {%- endfor %}
    )
    {%- if months_from() %}
    or ({{ month_column }} >= cast('{{ months_from() }}' as date) and {{ month_column }} < {{ as_of_month() }})
    {%- endif %}
    {%- for relation in whole_services_of %}
    or service_id in (select service_id from {{ relation }} where _batch_id > {{ newest_held }})
    {%- endfor %}
    {% endif %}
{%- endmacro %}
