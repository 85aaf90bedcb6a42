{#- A model's column rules in one query, one row for each rule that fails (with how many rows
    break it), so dbt runs one test per model instead of one per column and rule:

    - ``unique``: columns whose values never repeat (nulls aside), or lists of columns whose
      values together never repeat (there a null counts as a value, so two rows with the same
      nulls repeat);
    - ``not_null``: columns that always hold a value;
    - ``accepted_values``: column -> the values it may hold (a null is allowed);
    - ``relationships``: column -> ``{to: ref('parent'), field: parent_column}``; a value
      missing from the parent fails (a null is allowed).

    dbt's failure says how many rules failed; the failing rules, and the rows behind each, are
    what the test's compiled query returns (dbt names its file). ``model`` is what
    ``get_where_subquery`` gives a generic test: in a close, the rows not yet tested. -#}
{% test table_checks(model, unique=none, not_null=none, accepted_values=none, relationships=none) %}

{%- set rules = [] -%}
{%- for columns in unique or [] -%}
    {%- set listed = [columns] if columns is string else columns -%}
    {%- set where = " where " ~ columns ~ " is not null" if columns is string else "" -%}
    {%- do rules.append((
        "unique (" ~ listed | join(", ") ~ ")",
        "select count(*) from (select " ~ listed | join(", ") ~ " from tested" ~ where ~ " group by all having count(*) > 1)"
    )) -%}
{%- endfor -%}
{%- for column in not_null or [] -%}
    {%- do rules.append(("not_null (" ~ column ~ ")", "select count(*) from tested where " ~ column ~ " is null")) -%}
{%- endfor -%}
{%- for column, values in (accepted_values or {}).items() -%}
    {%- set listed = [] -%}
    {%- for value in values -%}
        {%- do listed.append(value if value is number or value is boolean else "'" ~ value | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- do rules.append((
        "accepted_values (" ~ column ~ ")",
        "select count(*) from tested where " ~ column ~ " is not null and " ~ column ~ " not in (" ~ listed | join(", ") ~ ")"
    )) -%}
{%- endfor -%}
{%- for column, parent in (relationships or {}).items() -%}
    {%- do rules.append((
        "relationships (" ~ column ~ " -> " ~ parent.to.identifier ~ "." ~ parent.field ~ ")",
        "select count(*) from tested where " ~ column ~ " is not null and " ~ column
        ~ " not in (select " ~ parent.field ~ " from " ~ parent.to ~ " where " ~ parent.field ~ " is not null)"
    )) -%}
{%- endfor -%}

with tested as (select * from {{ model }})
select rule, failing_rows
from (
    {%- for rule, query in rules %}
    {% if not loop.first %}union all {% endif %}select '{{ rule | replace("'", "''") }}' as rule, ({{ query }}) as failing_rows
    {%- endfor %}
) as checked
where failing_rows > 0

{% endtest %}
