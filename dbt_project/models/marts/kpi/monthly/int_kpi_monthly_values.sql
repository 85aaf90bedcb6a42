{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- Values, year to date and the same period last year for every grid row.
-- Incremental: the months int_kpi_months_to_recompute lists, read from the start of the
-- financial year holding the first of them (for YTD). Last year's values for a month before
-- that year come from the table itself: they are earlier than the first recomputed month, so
-- nothing this run rewrote can have changed them.
with
{% if is_incremental() %}
starts as (
    select
        service_id,
        from_month,
        make_date({{ financial_year_start('from_month') }}, 4, 1) as year_start
    from {{ ref('int_kpi_months_to_recompute') }}
    where period_month = from_month
),
{% endif %}

-- The grid and its rolled-up figures, each from the start of its service's financial year.
{% for name, model in [('grid', 'int_kpi_monthly_grid'), ('rolled', 'int_kpi_rolled_up_monthly')] %}
{{ name }} as (
    select inputs.*
    from {{ ref(model) }} as inputs
    {% if is_incremental() %}
    inner join starts
        on inputs.service_id = starts.service_id
        and inputs.period_month >= starts.year_start
    {% endif %}
),

{% endfor %}
kpis as (
    select * from {{ ref('dim_kpi') }}
),

dates as (
    select distinct month_start_date, financial_year, financial_quarter, financial_month_number
    from {{ ref('dim_date') }}
),

filled as (
    select
        grid.kpi_code,
        grid.org_unit_id,
        grid.org_level,
        grid.service_id,
        grid.period_month,
        dates.financial_year,
        dates.financial_quarter,
        dates.financial_month_number,
        -- No observation: nothing happened (0). An observation with a null numerator: the
        -- service did not record the input that month ("not recorded"), kept null.
        case when rolled.kpi_code is null then 0 else rolled.numerator end as numerator,
        rolled.denominator,
        rolled.denominator_vintage,
        kpis.multiplier,
        kpis.is_count,
        kpis.time_aggregation,
        kpis.requires
    from grid
    inner join kpis on grid.kpi_code = kpis.kpi_code
    inner join dates on grid.period_month = dates.month_start_date
    left join rolled
        on grid.kpi_code = rolled.kpi_code
        and grid.org_unit_id = rolled.org_unit_id
        and grid.period_month = rolled.period_month
),

cumulative as (
    select
        *,
        sum(numerator) over year_to_date as numerator_ytd,
        -- Stock denominators (population, FTE) are averaged over the months, flows are added.
        case
            when time_aggregation = 'sum_over_mean' then avg(denominator) over year_to_date
            else sum(denominator) over year_to_date
        end as denominator_ytd
    from filled
    window year_to_date as (
        partition by kpi_code, org_unit_id, financial_year
        order by period_month
        rows between unbounded preceding and current row
    )
),

valued as (
    select
        *,
        case when is_count then numerator else numerator / nullif(denominator, 0) * multiplier end as value,
        case when is_count then numerator_ytd else numerator_ytd / nullif(denominator_ytd, 0) * multiplier end as value_ytd,
        -- Why a value is missing, for the reader: an input the service does not record, or a
        -- rate whose reference denominators (requires: reference.wards.*) are absent.
        case
            when numerator is null then 'not recorded'
            when not is_count and denominator is null and requires like '%reference.wards%' then 'no ward denominators'
        end as value_note
    from cumulative
),

-- Every month's value and YTD, as "same month last year" reads them.
last_year_values as (
    select kpi_code, org_unit_id, period_month, value, value_ytd from valued
    {% if is_incremental() %}
    union all
    select held.kpi_code, held.org_unit_id, held.period_month, held.value, held.value_ytd
    from {{ this }} as held
    inner join starts
        on held.service_id = starts.service_id
        and held.period_month >= {{ add_months('starts.from_month', -12) }}
        and held.period_month < starts.year_start
    {% endif %}
),

final as (
    select
        current_month.kpi_code,
        current_month.org_unit_id,
        current_month.org_level,
        current_month.service_id,
        current_month.period_month,
        current_month.financial_year,
        current_month.financial_quarter,
        current_month.financial_month_number,
        current_month.numerator,
        current_month.denominator,
        current_month.value,
        current_month.value_note,
        current_month.numerator_ytd,
        current_month.denominator_ytd,
        current_month.value_ytd,
        last_year.value as value_same_month_last_year,
        last_year.value_ytd as value_prior_ytd,
        current_month.denominator_vintage,
        '{{ invocation_id }}' as _invocation_id
    from valued as current_month
    left join last_year_values as last_year
        on current_month.kpi_code = last_year.kpi_code
        and current_month.org_unit_id = last_year.org_unit_id
        and last_year.period_month = {{ add_months('current_month.period_month', -12) }}
    where {{ in_kpi_recompute_months('current_month.service_id', 'current_month.period_month') }}
)

select * from final
