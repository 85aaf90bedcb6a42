{#- RAG from a KPI's polarity and tolerance band (percent of target).
    up:   green at or above target, amber within the band below it, red beyond.
    down: green at or below target, amber within the band above it, red beyond.
    none, or no target: null. -#}
{% macro rag_status(value, target, polarity, tolerance_pct) -%}
    case
        when {{ value }} is null or {{ target }} is null or {{ polarity }} = 'none' then null
        when {{ polarity }} = 'up' and {{ value }} >= {{ target }} then 'green'
        when {{ polarity }} = 'up' and {{ value }} >= {{ target }} * (1 - coalesce({{ tolerance_pct }}, 0) / 100.0) then 'amber'
        when {{ polarity }} = 'up' then 'red'
        when {{ polarity }} = 'down' and {{ value }} <= {{ target }} then 'green'
        when {{ polarity }} = 'down' and {{ value }} <= {{ target }} * (1 + coalesce({{ tolerance_pct }}, 0) / 100.0) then 'amber'
        when {{ polarity }} = 'down' then 'red'
    end
{%- endmacro %}

{#- Better, worse or unchanged against a comparison value, by polarity. -#}
{% macro direction_of_travel(value, comparison, polarity) -%}
    case
        when {{ value }} is null or {{ comparison }} is null then null
        when {{ value }} = {{ comparison }} then 'no_change'
        when {{ polarity }} = 'none' then case when {{ value }} > {{ comparison }} then 'up' else 'down' end
        when ({{ polarity }} = 'up') = ({{ value }} > {{ comparison }}) then 'improving'
        else 'worsening'
    end
{%- endmacro %}

{#- Where counts are small, the SPC signal carries the assessment and no RAG (or outlook) is given:
    a small-count KPI (deaths, injuries) below service level, and every KPI at ward level. -#}
{% macro judged_by_spc_only(relation=none) -%}
    {%- set p = relation ~ '.' if relation else '' -%}
    (({{ p }}is_small_count_spc and {{ p }}org_level <> 'service') or {{ p }}org_level = 'ward')
{%- endmacro %}
