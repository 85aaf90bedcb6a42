{#- UK public-sector financial year: April to March. Q1 = April-June. -#}

{% macro financial_year_start(date_expr) -%}
    (cast(extract(year from {{ date_expr }}) as integer) - case when extract(month from {{ date_expr }}) < 4 then 1 else 0 end)
{%- endmacro %}

{#- Label like '2025-26' for the year starting April 2025. -#}
{% macro financial_year_label(date_expr) -%}
    (cast({{ financial_year_start(date_expr) }} as varchar) || '-' || right(cast({{ financial_year_start(date_expr) }} + 1 as varchar), 2))
{%- endmacro %}

{% macro financial_quarter_number(date_expr) -%}
    (cast(floor(((cast(extract(month from {{ date_expr }}) as integer) + 8) % 12) / 3) as integer) + 1)
{%- endmacro %}

{% macro financial_quarter(date_expr) -%}
    ('Q' || cast({{ financial_quarter_number(date_expr) }} as varchar))
{%- endmacro %}

{#- Month of the financial year: April = 1 ... March = 12. -#}
{% macro financial_month_number(date_expr) -%}
    (((cast(extract(month from {{ date_expr }}) as integer) + 8) % 12) + 1)
{%- endmacro %}
