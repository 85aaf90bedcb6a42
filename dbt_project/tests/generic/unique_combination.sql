{#- Fails for every combination of the given columns that occurs more than once: the
    multi-column key check for intermediate models (dbt_utils is not available offline).
    Nulls group together, so a null in a key column is a duplicate like any other value. -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as count_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
