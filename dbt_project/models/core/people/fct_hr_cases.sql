-- HR cases opened and closed, with days to resolve. No staff identifiers.
with cases as (
    select * from {{ ref('stg_hr__cases') }}
),

final as (
    select
        case_sk,
        service_id,
        case_type,
        opened_date,
        closed_date,
        {{ month_start('opened_date') }} as opened_month,
        {{ month_start('closed_date') }} as closed_month,
        {{ days_between('opened_date', 'closed_date') }} as days_to_resolve,
        closed_date is not null as is_closed
    from cases
)

select * from final
