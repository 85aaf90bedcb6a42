{#- Trim edge whitespace, including the non-breaking spaces (U+00A0) that ONS and Home Office
    spreadsheets leave on names; an empty result becomes null. -#}
{% macro clean_text(column) -%}
    nullif(trim(replace({{ column }}, chr(160), ' ')), '')
{%- endmacro %}

{#- Codes are validated case-insensitively at ingestion but stored as delivered, so
    ' Primary_Fire' and 'primary_fire' can both reach raw. -#}
{% macro clean_code(column) -%}
    lower(trim({{ column }}))
{%- endmacro %}

{#- Map a code to its canonical spelling in a mixed-case list (e.g. watch 'RED' -> 'Red');
    anything outside the list is passed through trimmed so accepted_values reports it. -#}
{% macro canonical_code(column, values) -%}
    case lower(trim({{ column }}))
        {%- for value in values %}
        when '{{ value | lower }}' then '{{ value }}'
        {%- endfor %}
        else trim({{ column }})
    end
{%- endmacro %}

{#- The watch list from the contracts (WATCHES). -#}
{% macro standardise_watch(column) -%}
    {{ canonical_code(column, ['Red', 'White', 'Blue', 'Green', 'Day', 'On-call']) }}
{%- endmacro %}

{#- Home Office FRS names are spelt 'Isles Of Scilly' in FIRE1001 and 'Isles of Scilly' in the
    stations list: lower-case the linking 'of' so the names join across Home Office tables. -#}
{% macro standardise_frs_name(column) -%}
    replace({{ clean_text(column) }}, ' Of ', ' of ')
{%- endmacro %}
