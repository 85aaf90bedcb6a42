{{ config(
    materialized='incremental',
    unique_key=['service_id', 'period_month'],
    incremental_strategy='replace_groups',
    on_schema_change='fail',
) }}

-- depends_on: {{ ref('int_kpi_months_to_recompute') }}
-- XmR (individuals and moving range) control limits per KPI and unit, computed from each
-- month's own history (every earlier month and itself), so a published month never changes
-- when later months arrive. Signals: a point beyond the limits, or a run of eight or more
-- consecutive points on one side of the centre line. No signal before 12 points of history.
-- Each row keeps the running state its limits came from (points, sums, side and run length),
-- so a close starts each series from its last point before the first recomputed month rather
-- than reading its whole history. Values are taken to 9 decimal places and summed as
-- decimals: exact sums make the centre line the same whichever months a run starts from.
with monthly as (
    select
        kpi_code,
        org_unit_id,
        service_id,
        period_month,
        cast(value as decimal(38, 9)) as value
    from {{ ref('int_kpi_monthly_values') }}
    where value is not null
        and {{ in_kpi_recompute_months() }}
),

{% if is_incremental() %}
last_points as (
    select
        held.kpi_code,
        held.org_unit_id,
        arg_max(
            {
                points: held.spc_points,
                value_sum: held.spc_value_sum,
                moving_range_sum: held.spc_moving_range_sum,
                last_value: held.spc_value,
                side: held.spc_side,
                run_length: held.spc_run_length
            },
            held.period_month
        ) as state
    from {{ this }} as held
    inner join (
        select distinct service_id, from_month from {{ ref('int_kpi_months_to_recompute') }}
    ) as recompute
        on held.service_id = recompute.service_id
        and held.period_month < recompute.from_month
    group by held.kpi_code, held.org_unit_id
),

carried as (
    select kpi_code, org_unit_id, unnest(state)
    from last_points
),
{% else %}
carried as (
    select
        cast(null as varchar) as kpi_code,
        cast(null as varchar) as org_unit_id,
        cast(null as bigint) as points,
        cast(null as decimal(38, 9)) as value_sum,
        cast(null as decimal(38, 9)) as moving_range_sum,
        cast(null as decimal(38, 9)) as last_value,
        cast(null as integer) as side,
        cast(null as bigint) as run_length
    where false
),
{% endif %}

moving_range as (
    select
        monthly.*,
        coalesce(carried.points, 0)
            + row_number() over series as point_number,
        abs(monthly.value - coalesce(lag(monthly.value) over series, carried.last_value)) as moving_range,
        carried.points as carried_points,
        carried.value_sum as carried_value_sum,
        carried.moving_range_sum as carried_moving_range_sum,
        carried.side as carried_side,
        carried.run_length as carried_run_length
    from monthly
    left join carried
        on monthly.kpi_code = carried.kpi_code
        and monthly.org_unit_id = carried.org_unit_id
    window series as (partition by monthly.kpi_code, monthly.org_unit_id order by monthly.period_month)
),

limits as (
    select
        *,
        coalesce(carried_value_sum, 0) + sum(value) over history as value_sum,
        coalesce(carried_moving_range_sum, 0) + coalesce(sum(moving_range) over history, 0) as moving_range_sum
    from moving_range
    window history as (
        partition by kpi_code, org_unit_id
        order by period_month
        rows between unbounded preceding and current row
    )
),

centred as (
    select
        *,
        value_sum / point_number as centre_line,
        moving_range_sum / nullif(point_number - 1, 0) as mean_moving_range
    from limits
),

sided as (
    select
        *,
        centre_line + 2.66 * mean_moving_range as upper_limit,
        greatest(centre_line - 2.66 * mean_moving_range, 0) as lower_limit,
        case when value > centre_line then 1 when value < centre_line then -1 else 0 end as side
    from centred
),

-- Runs of points on one side, counted within this run's months: the first run (run_group 0)
-- continues the run its series had reached, if that was on the same side.
runs as (
    select
        *,
        row_number() over (partition by kpi_code, org_unit_id order by period_month)
            - row_number() over (partition by kpi_code, org_unit_id, side order by period_month) as run_group
    from sided
),

run_lengths as (
    select
        *,
        row_number() over (partition by kpi_code, org_unit_id, side, run_group order by period_month)
            + case when run_group = 0 and side = carried_side then carried_run_length else 0 end as run_length
    from runs
),

final as (
    select
        kpi_code,
        org_unit_id,
        service_id,
        period_month,
        cast(centre_line as double) as spc_centre_line,
        cast(lower_limit as double) as spc_lower_limit,
        cast(upper_limit as double) as spc_upper_limit,
        case
            when point_number < 12 then null
            when value > upper_limit then 'above_upper_limit'
            when value < lower_limit then 'below_lower_limit'
            when side = 1 and run_length >= 8 then 'run_above_centre'
            when side = -1 and run_length >= 8 then 'run_below_centre'
            else 'none'
        end as spc_signal,
        point_number as spc_points,
        value_sum as spc_value_sum,
        moving_range_sum as spc_moving_range_sum,
        value as spc_value,
        side as spc_side,
        run_length as spc_run_length,
        '{{ invocation_id }}' as _invocation_id
    from run_lengths
)

select * from final
