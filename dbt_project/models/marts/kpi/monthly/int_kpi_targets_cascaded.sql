-- Annual targets for every unit: an explicit seed target where one exists, else the service
-- target cascaded down. Count-like (period_sum) targets are shared out by each unit's share of
-- the last three years' numerator (relative to its share of the denominator, for rates);
-- level targets (percentages, means) apply unchanged.
with targets as (
    select * from {{ ref('kpi_targets') }}
),

kpis as (
    select * from {{ ref('dim_kpi') }}
),

rolled as (
    select * from {{ ref('int_kpi_rolled_up_monthly') }}
),

unit_years as (
    select distinct kpi_code, org_unit_id, org_level, service_id from {{ ref('int_kpi_monthly_grid') }}
),

service_targets as (
    select
        service_id,
        kpi_code,
        financial_year,
        cast(left(financial_year, 4) || '-04-01' as date) as year_start,
        cast(target_value as double) as target_value
    from targets
    where org_unit_id is null or org_unit_id = service_id
),

explicit_targets as (
    select service_id, kpi_code, org_unit_id, financial_year, cast(target_value as double) as target_value
    from targets
    where org_unit_id is not null and org_unit_id <> service_id
),

-- Numerators and denominators over the three years before each target year; where a
-- service has no such history yet (its first years of data) its whole history is used.
history_window as (
    select
        service_targets.service_id,
        service_targets.kpi_code,
        service_targets.financial_year,
        rolled.org_unit_id,
        sum(rolled.numerator) as numerator,
        sum(rolled.denominator) as denominator
    from service_targets
    inner join rolled
        on service_targets.kpi_code = rolled.kpi_code
        and service_targets.service_id = rolled.service_id
        and service_targets.year_start > rolled.period_month
        and rolled.period_month >= {{ add_months('service_targets.year_start', -36) }}
    group by service_targets.service_id, service_targets.kpi_code, service_targets.financial_year, rolled.org_unit_id
),

history_all as (
    select
        service_targets.service_id,
        service_targets.kpi_code,
        service_targets.financial_year,
        rolled.org_unit_id,
        sum(rolled.numerator) as numerator,
        sum(rolled.denominator) as denominator
    from service_targets
    inner join rolled
        on service_targets.kpi_code = rolled.kpi_code
        and service_targets.service_id = rolled.service_id
    group by service_targets.service_id, service_targets.kpi_code, service_targets.financial_year, rolled.org_unit_id
),

window_has_history as (
    select service_id, kpi_code, financial_year
    from history_window
    where org_unit_id = service_id and numerator > 0
),

history as (
    select
        history_all.service_id,
        history_all.kpi_code,
        history_all.financial_year,
        history_all.org_unit_id,
        case when window_has_history.kpi_code is not null then history_window.numerator else history_all.numerator end as numerator,
        case when window_has_history.kpi_code is not null then history_window.denominator else history_all.denominator end as denominator
    from history_all
    left join window_has_history
        on history_all.service_id = window_has_history.service_id
        and history_all.kpi_code = window_has_history.kpi_code
        and history_all.financial_year = window_has_history.financial_year
    left join history_window
        on history_all.service_id = history_window.service_id
        and history_all.kpi_code = history_window.kpi_code
        and history_all.financial_year = history_window.financial_year
        and history_all.org_unit_id = history_window.org_unit_id
),

shares as (
    select
        unit_history.service_id,
        unit_history.kpi_code,
        unit_history.financial_year,
        unit_history.org_unit_id,
        (unit_history.numerator / nullif(service_history.numerator, 0))
            / coalesce(unit_history.denominator / nullif(service_history.denominator, 0), 1.0) as share
    from history as unit_history
    inner join history as service_history
        on unit_history.service_id = service_history.service_id
        and unit_history.kpi_code = service_history.kpi_code
        and unit_history.financial_year = service_history.financial_year
        and service_history.org_unit_id = service_history.service_id
),

final as (
    select
        unit_years.kpi_code,
        unit_years.org_unit_id,
        unit_years.org_level,
        unit_years.service_id,
        service_targets.financial_year,
        case
            when explicit_targets.target_value is not null then explicit_targets.target_value
            when unit_years.org_level = 'service' or kpis.target_basis = 'level' then service_targets.target_value
            else service_targets.target_value * coalesce(shares.share, 0)
        end as annual_target,
        case
            when explicit_targets.target_value is not null then 'explicit'
            when unit_years.org_level = 'service' then 'service'
            when kpis.target_basis = 'level' then 'service level applied'
            else 'cascaded by share of last three years'
        end as target_source
    from unit_years
    inner join kpis on unit_years.kpi_code = kpis.kpi_code
    inner join service_targets
        on unit_years.kpi_code = service_targets.kpi_code
        and unit_years.service_id = service_targets.service_id
    left join explicit_targets
        on unit_years.service_id = explicit_targets.service_id
        and unit_years.kpi_code = explicit_targets.kpi_code
        and unit_years.org_unit_id = explicit_targets.org_unit_id
        and service_targets.financial_year = explicit_targets.financial_year
    left join shares
        on unit_years.service_id = shares.service_id
        and unit_years.kpi_code = shares.kpi_code
        and unit_years.org_unit_id = shares.org_unit_id
        and service_targets.financial_year = shares.financial_year
)

select * from final
