{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- XmR (individuals and moving range) control limits per KPI and unit, computed from each
-- month's own history (every earlier month and itself), so a published month never changes
-- when later months arrive. Signals: a point beyond the limits, or a run of eight or more
-- consecutive points on one side of the centre line. No signal before 12 points of history.
-- Incremental: a month's limits use its whole history, so every month of a service with any
-- month to recompute is read, and only the months listed are written.
with monthly as (
    select kpi_code, org_unit_id, service_id, period_month, value
    from {{ ref('int_kpi_monthly_values') }}
    where value is not null
        and {{ in_kpi_recompute_services() }}
),

moving_range as (
    select
        *,
        abs(value - lag(value) over (partition by kpi_code, org_unit_id order by period_month)) as moving_range,
        row_number() over (partition by kpi_code, org_unit_id order by period_month) as point_number
    from monthly
),

limits as (
    select
        *,
        avg(value) over history as centre_line,
        avg(moving_range) over history as mean_moving_range
    from moving_range
    window history as (
        partition by kpi_code, org_unit_id
        order by period_month
        rows between unbounded preceding and current row
    )
),

sided as (
    select
        *,
        centre_line + 2.66 * mean_moving_range as upper_limit,
        greatest(centre_line - 2.66 * mean_moving_range, 0) as lower_limit,
        case when value > centre_line then 1 when value < centre_line then -1 else 0 end as side
    from limits
),

runs as (
    select
        *,
        point_number - row_number() over (partition by kpi_code, org_unit_id, side order by period_month) as run_group
    from sided
),

run_lengths as (
    select
        *,
        row_number() over (partition by kpi_code, org_unit_id, side, run_group order by period_month) as run_length
    from runs
),

final as (
    select
        kpi_code,
        org_unit_id,
        service_id,
        period_month,
        centre_line as spc_centre_line,
        lower_limit as spc_lower_limit,
        upper_limit as spc_upper_limit,
        case
            when point_number < 12 then null
            when value > upper_limit then 'above_upper_limit'
            when value < lower_limit then 'below_lower_limit'
            when side = 1 and run_length >= 8 then 'run_above_centre'
            when side = -1 and run_length >= 8 then 'run_below_centre'
            else 'none'
        end as spc_signal,
        '{{ invocation_id }}' as _invocation_id
    from run_lengths
    where {{ in_kpi_recompute_months() }}
)

select * from final
