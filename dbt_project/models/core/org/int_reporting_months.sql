-- Every month from the earliest data to the last complete month before as_of.
with months as (
    select distinct month_start_date as period_month
    from {{ ref('dim_date') }}
    where month_start_date < {{ as_of_month() }}
),

bounds as (
    select min(valid_from) as first_month from {{ ref('stg_reference__stations') }}
),

final as (
    select months.period_month
    from months
    cross join bounds
    where months.period_month >= {{ month_start('bounds.first_month') }}
)

select * from final
