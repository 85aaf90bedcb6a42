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
{% macro as_of_month() -%} cast('{{ var("as_of") }}' as date) {%- endmacro %}
