{#- Incremental by month: on an incremental run, keep only the (service, month) pairs that
    hold a raw batch newer than anything already in this model. A re-delivered month comes
    through whole (raw_current shows only its latest delivery), and delete+insert on
    (service_id, period_month) replaces the month, so withdrawn records disappear too. -#}
{% macro changed_months_filter(relation, month_column) -%}
    {% if is_incremental() %}
    where (service_id, {{ month_column }}) in (
        select service_id, {{ month_column }}
        from {{ relation }}
        where _batch_id > (select coalesce(max(_batch_id), 0) from {{ this }})
    )
    {% endif %}
{%- endmacro %}
