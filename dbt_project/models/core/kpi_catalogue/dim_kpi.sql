-- The KPI catalogue: how each KPI is computed, judged and owned, and which plan priority it serves.
with catalogue as (
    select * from {{ ref('kpi_catalogue') }}
),

final as (
    select
        kpi_code,
        priority_id,
        kpi_name,
        definition,
        nullif(trim(scope), '') as scope,
        numerator_definition,
        denominator_definition,
        unit,
        cast(multiplier as double) as multiplier,
        polarity,
        cast(tolerance_pct as double) as tolerance_pct,
        target_basis,
        time_aggregation,
        owner_role,
        frequency,
        lowest_level,
        case lowest_level when 'watch' then 1 when 'station' then 2 when 'group' then 3 else 4 end as lowest_level_rank,
        cast(is_small_count_spc as boolean) as is_small_count_spc,
        cast(reported_by_place as boolean) as is_reported_by_place,
        source_systems,
        requires,
        cast(decimals as integer) as decimals,
        cast(display_order as integer) as display_order,
        unit = 'count' as is_count
    from catalogue
)

select * from final
