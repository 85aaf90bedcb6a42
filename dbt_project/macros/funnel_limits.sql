{#- Funnel-plot control limits: the one place the rule lives (rpt_kpi_funnel applies it at each
    unit's denominator, rpt_kpi_funnel_limits along a grid of denominators for the chart's curves).
    Returns a limit on the proportion scale (numerator per unit of denominator, before the KPI's
    multiplier), for a pooled proportion ``proportion`` and a denominator ``denominator``.
    ``z`` is signed: +1.959964 / +3.090232 for the upper 95 % / 99.8 % limits, the negatives for
    the lower ones.
    percent KPIs (binomial): p + z * sqrt(p (1 - p) / n), kept within 0 and 1.
    rate KPIs (Poisson counts, expected count L = p * n): the Wilson-Hilferty cube-root
    approximation of the Poisson quantile, W(m) = m * (1 - 1 / (9 m) + z / (3 sqrt(m)))^3.
    Lower limit W(L) - 1 (P(O <= k) = P(chi-square on 2(k + 1) df > 2 L): the count's k + 1), kept at
    or above 0. Upper limit W(L + 1/4) - 1/4: a quarter-count continuity shift, measured against the
    exact one-sided Poisson test (tests/dbt/test_funnel_limits.py) so that no count the exact test
    keeps within 2.5 % (0.1 %) is put above the limit, even at the expected counts below 1 a small
    ward has. Both over n.
    A unit is outside a limit when its own numerator / denominator is strictly beyond it. -#}
{% macro funnel_limit(unit, proportion, denominator, z) -%}
    {%- set shift = 0.25 if z > 0 else 0 -%}
    {%- set offset = 0.25 if z > 0 else 1 -%}
    {%- set mean = '(' ~ proportion ~ ' * ' ~ denominator ~ ' + ' ~ shift ~ ')' -%}
    case
        when {{ proportion }} is null or {{ denominator }} is null or {{ denominator }} <= 0 then null
        when {{ unit }} = 'percent' then
            least(1.0, greatest(0.0,
                {{ proportion }} + ({{ z }}) * sqrt(greatest(0.0, {{ proportion }} * (1 - {{ proportion }})) / {{ denominator }})
            ))
        when {{ proportion }} <= 0 then 0.0
        else greatest(0.0,
            {{ mean }} * power(greatest(0.0, 1 - 1 / (9 * {{ mean }}) + ({{ z }}) / (3 * sqrt({{ mean }}))), 3) - {{ offset }}
        ) / {{ denominator }}
    end
{%- endmacro %}

{#- Where a unit's rate sits against the four limits (all on the same scale). -#}
{% macro funnel_position(value, lower_998, lower_95, upper_95, upper_998) -%}
    case
        when {{ value }} is null or {{ upper_95 }} is null then null
        when {{ value }} > {{ upper_998 }} then 'above 99.8%'
        when {{ value }} > {{ upper_95 }} then 'above 95%'
        when {{ value }} < {{ lower_998 }} then 'below 99.8%'
        when {{ value }} < {{ lower_95 }} then 'below 95%'
        else 'within'
    end
{%- endmacro %}
