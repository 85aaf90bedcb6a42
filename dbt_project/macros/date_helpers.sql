{#- Whole days from a to b (b - a). -#}
{% macro days_between(a, b) -%}
    {{ return(adapter.dispatch('days_between')(a, b)) }}
{%- endmacro %}
{% macro duckdb__days_between(a, b) -%} date_diff('day', cast({{ a }} as date), cast({{ b }} as date)) {%- endmacro %}
{% macro default__days_between(a, b) -%} (cast({{ b }} as date) - cast({{ a }} as date)) {%- endmacro %}

{#- First day of the month holding a date or timestamp, as a date. -#}
{% macro month_start(expr) -%} cast(date_trunc('month', {{ expr }}) as date) {%- endmacro %}

{#- Add whole months to a date, returning a date. -#}
{% macro add_months(expr, n) -%} cast({{ expr }} + interval '{{ n }} month' as date) {%- endmacro %}

{#- The reporting cut-off: the first day of the as_of month (the last complete month is the one before). -#}
{% macro as_of_month() -%} cast('{{ as_of() }}' as date) {%- endmacro %}

{#- The run's parameters: ``--vars`` when given (dbt run by hand), else the pipeline's environment
    (``GT_AS_OF``, ``GT_MONTHS_FROM``). The pipeline passes them as environment variables so that
    dbt can parse a close partially: a change of ``--vars`` makes dbt parse all 500 nodes again
    (about 8 s), a change of an environment variable only the nodes that read it. -#}
{% macro as_of() -%}
    {{- return(var('as_of', env_var('GT_AS_OF', '2026-11-01'))) -}}
{%- endmacro %}
{% macro months_from() -%}
    {{- return(var('months_from', env_var('GT_MONTHS_FROM', '')) or none) -}}
{%- endmacro %}
