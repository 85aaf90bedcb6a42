{#- FIRE1001 LOCATION_CATEGORY mixes England, five groupings of services (DEFRA urban/rural
    class, metropolitan status) and the 44 fire and rescue services themselves. -#}
{% macro fire1001_location_level(column) -%}
    case
        when {{ column }} = 'England' then 'national'
        when {{ column }} in (
            'Metropolitan',
            'Non-metropolitan',
            'Predominantly Rural',
            'Predominantly Urban',
            'Significantly Rural'
        ) then 'grouping'
        else 'frs'
    end
{%- endmacro %}
