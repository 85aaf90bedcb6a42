-- The quarterly review's best practice: for each service, financial quarter and KPI that has a
-- direction (polarity up or down) and is not a small-count KPI, its three best stations, best
-- first in the direction of the polarity (ties by station name), beside the service's own value.
with

station_rows as (

    select
        quarterly.service_id,
        quarterly.financial_year,
        quarterly.financial_quarter,
        quarterly.kpi_code,
        quarterly.org_unit_id,
        quarterly.value,
        quarterly.target,
        quarterly.rag_status,
        quarterly.numerator,
        quarterly.denominator,
        quarterly.polarity,
        quarterly.unit
    from {{ ref('rpt_kpi_quarterly') }} as quarterly
    inner join {{ ref('dim_kpi') }} as kpi
        on quarterly.kpi_code = kpi.kpi_code and not kpi.is_small_count_spc
    where
        quarterly.org_level = 'station'
        and quarterly.value is not null
        and quarterly.polarity in ('up', 'down')

),

names as (

    select org_unit_id, max(org_unit_name) as org_unit_name
    from {{ ref('dim_org_unit') }}
    group by org_unit_id

),

ranked as (

    select
        station_rows.*,
        names.org_unit_name,
        row_number() over (
            partition by
                station_rows.service_id,
                station_rows.financial_year,
                station_rows.financial_quarter,
                station_rows.kpi_code
            order by
                case when station_rows.polarity = 'up' then station_rows.value else -station_rows.value end desc,
                names.org_unit_name
        ) as best_practice_rank
    from station_rows
    left join names on station_rows.org_unit_id = names.org_unit_id

),

service as (

    select service_id, financial_year, financial_quarter, kpi_code, value as service_value
    from {{ ref('rpt_kpi_quarterly') }}
    where org_level = 'service'

),

final as (

    select
        ranked.service_id,
        ranked.financial_year,
        ranked.financial_quarter,
        ranked.kpi_code,
        ranked.best_practice_rank,
        ranked.org_unit_id,
        ranked.org_unit_name,
        ranked.value,
        ranked.target,
        ranked.rag_status,
        ranked.numerator,
        ranked.denominator,
        ranked.polarity,
        ranked.unit,
        service.service_value,
        ranked.value - service.service_value as gap_to_service
    from ranked
    left join service
        on
            ranked.service_id = service.service_id
            and ranked.financial_year = service.financial_year
            and ranked.financial_quarter = service.financial_quarter
            and ranked.kpi_code = service.kpi_code
    where ranked.best_practice_rank <= 3

)

select * from final
