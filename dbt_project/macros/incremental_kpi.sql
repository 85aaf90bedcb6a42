{#- The KPI chain, incremental by month.

    Station-month aggregates and the facts know which months a close changed from their batches
    (changed_months_filter). Above them, a month's KPI values can also change because a
    denominator, the hierarchy or a restated HR extract changed. So the chain starts from a
    comparison instead: ``fct_kpi_observations`` (every KPI's numerator and denominator per unit
    and month) is recomputed, compared with what it held, and only the (service, month) groups
    that differ are rewritten (``changed_groups_only``). Likewise the monthly hierarchy.

    ``int_kpi_months_to_recompute`` then lists, for each service, every month from the first one
    that changed: YTD, same-month-last-year and the SPC limits only look back, so a change can
    move later months and never earlier ones. The models above read only what those months need
    (``in_kpi_recompute_months``; the values start from the financial year holding the first
    month, SPC from each series' state before it) and replace them by (service, month).
    Changing the KPI catalogue (seeds) or a model's logic needs a full rebuild
    (``pipeline --full``), as with any dbt incremental model. -#}


{#- Where-clause for a diff-incremental model: keep only the groups ``keys`` whose rows differ
    between the newly computed ``relation`` (a CTE name) and what the model holds, in either
    direction (changed, added or removed rows). ``_invocation_id`` is left out of the comparison.
    A group that disappears altogether stays (replace_groups only replaces groups it is given):
    months only vanish if as_of moves back or a service is removed, which need a full rebuild.

    A model with doubles names its ``row_key`` (unique per row): rows are then matched on it and
    doubles compared to a relative 1e-9. Sums of doubles add in whatever order the parallel
    aggregation meets the rows, which moves the last bits when nothing changed; rounding both sides
    to a fixed number of places does not absorb that, since a value that lies on a rounding
    boundary rounds either way (a national close once rewrote seven years of London's KPIs over
    one such sum). -#}
{% macro changed_groups_only(relation, keys, row_key=none) -%}
    {%- if is_incremental() -%}
    {%- set columns = adapter.get_columns_in_relation(this) | rejectattr('name', 'equalto', '_invocation_id') | list -%}
    {%- set doubles = columns | selectattr('dtype', 'in', ['DOUBLE', 'FLOAT', 'REAL', 'double', 'float', 'real']) | map(attribute='name') | list -%}
    where ({{ keys | join(', ') }}) in (
        {%- if doubles %}
        {%- if not row_key %}
        {{ exceptions.raise_compiler_error("changed_groups_only: " ~ this ~ " holds doubles " ~ doubles ~ "; name its row_key") }}
        {%- endif %}
        {{ keys_that_differ_by_row(relation, this, keys, row_key, columns | map(attribute='name') | list, doubles) }}
        {%- else %}
        {{ keys_that_differ(relation, this, keys, columns | map(attribute='name') | join(', ')) }}
        {%- endif %}
    )
    {%- endif -%}
{%- endmacro %}


{#- The ``keys`` of rows that are in one of ``new`` and ``held`` but not the other (matched on
    ``row_key``), or whose ``columns`` differ; ``doubles`` among them are equal within a relative
    1e-9. -#}
{% macro keys_that_differ_by_row(new, held, keys, row_key, columns, doubles) -%}
    select distinct
        {%- for key in keys %}
        coalesce(new.{{ key }}, held.{{ key }}) as {{ key }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ new }} as new
    full join {{ held }} as held on new.{{ row_key }} = held.{{ row_key }}
    where new.{{ row_key }} is null
        or held.{{ row_key }} is null
        {%- for column in columns if column != row_key %}
        {%- if column in doubles %}
        or not coalesce(
            new.{{ column }} is not distinct from held.{{ column }}
            or abs(new.{{ column }} - held.{{ column }}) <= 1e-9 * greatest(abs(new.{{ column }}), abs(held.{{ column }})),
            false
        )
        {%- else %}
        or new.{{ column }} is distinct from held.{{ column }}
        {%- endif %}
        {%- endfor %}
{%- endmacro %}


{#- The ``keys`` of rows in one of ``new`` and ``held`` but not the other (compared on ``columns``):
    what changed, was added or was removed. -#}
{% macro keys_that_differ(new, held, keys, columns='*') -%}
    {%- set key_list = keys | join(', ') -%}
    select {{ key_list }} from (
        select {{ columns }} from {{ new }}
        except
        select {{ columns }} from {{ held }}
    ) as added
    union
    select {{ key_list }} from (
        select {{ columns }} from {{ held }}
        except
        select {{ columns }} from {{ new }}
    ) as removed
{%- endmacro %}


{#- Predicate: the (service, month) is one the KPI chain recomputes in this run. Always true on a
    full build. -#}
{% macro in_kpi_recompute_months(service_column='service_id', month_column='period_month') -%}
    {%- if is_incremental() -%}
    ({{ service_column }}, {{ month_column }}) in (
        select service_id, period_month from {{ ref('int_kpi_months_to_recompute') }}
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

