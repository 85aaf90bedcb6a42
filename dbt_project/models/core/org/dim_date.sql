with days as (
    {{ date_spine('2008-04-01', '2031-03-31') }}
),

final as (
    select
        date_day,
        {{ month_start('date_day') }} as month_start_date,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(month from date_day) as integer) as calendar_month,
        cast(extract(isodow from date_day) as integer) as iso_day_of_week,
        extract(isodow from date_day) in (6, 7) as is_weekend,
        {{ financial_year_start('date_day') }} as financial_year_start,
        {{ financial_year_label('date_day') }} as financial_year,
        {{ financial_quarter('date_day') }} as financial_quarter,
        {{ financial_year_label('date_day') }} || ' ' || {{ financial_quarter('date_day') }} as financial_quarter_label,
        {{ financial_month_number('date_day') }} as financial_month_number
    from days
)

select * from final
