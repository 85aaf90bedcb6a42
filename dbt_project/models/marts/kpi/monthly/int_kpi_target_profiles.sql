-- How each unit's annual period_sum target is spread over the 12 months of its financial year:
-- each month's share and the cumulative share to the end of that month (what the YTD target and
-- the year-end projection use instead of months / 12). In order of precedence: a profile the KPI
-- owner set for the unit, then one set for the KPI (seeds/kpi_target_profiles.csv); else the
-- unit's own pattern over the three complete financial years before the target year, its
-- service's pattern when the unit has too little history, and flat 1/12 when the service has
-- none either. Level targets (percentages, means) are not profiled: months / 12, source null.
-- "Enough history": all 36 months recorded and at least
-- var('target_profile_min_count') events (default 36), fewer make a pattern out of noise.
with targets as (
    select * from {{ ref('int_kpi_targets_cascaded') }}
),

kpis as (
    select * from {{ ref('dim_kpi') }}
),

owner_profiles as (
    select * from {{ ref('kpi_target_profiles') }}
),

monthly as (
    select kpi_code, org_unit_id, service_id, period_month, financial_month_number, numerator
    from {{ ref('int_kpi_monthly_values') }}
),

months as (
    select month_numbers.financial_month_number
    from (values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)) as month_numbers (financial_month_number)
),

profiled_targets as (
    select
        targets.kpi_code,
        targets.org_unit_id,
        targets.org_level,
        targets.service_id,
        targets.financial_year,
        kpis.target_basis,
        cast(left(targets.financial_year, 4) || '-04-01' as date) as year_start
    from targets
    inner join kpis on targets.kpi_code = kpis.kpi_code
),

-- Each unit's numerator by month of the year over the three financial years before the target year.
history_by_month as (
    select
        profiled_targets.kpi_code,
        profiled_targets.org_unit_id,
        profiled_targets.financial_year,
        monthly.financial_month_number,
        sum(monthly.numerator) as numerator,
        count(monthly.numerator) as count_months_recorded
    from profiled_targets
    inner join monthly
        on profiled_targets.target_basis = 'period_sum'
        and profiled_targets.kpi_code = monthly.kpi_code
        and profiled_targets.org_unit_id = monthly.org_unit_id
        and {{ add_months('profiled_targets.year_start', -36) }} <= monthly.period_month
        and profiled_targets.year_start > monthly.period_month
    group by
        profiled_targets.kpi_code, profiled_targets.org_unit_id, profiled_targets.financial_year, monthly.financial_month_number
),

history_totals as (
    select
        kpi_code,
        org_unit_id,
        financial_year,
        sum(numerator) as numerator,
        sum(count_months_recorded) >= 36
        and sum(numerator) >= {{ var('target_profile_min_count', 36) }} as has_enough_history
    from history_by_month
    group by kpi_code, org_unit_id, financial_year
),

history_shares as (
    select
        history_by_month.kpi_code,
        history_by_month.org_unit_id,
        history_by_month.financial_year,
        history_by_month.financial_month_number,
        history_by_month.numerator / history_totals.numerator as month_share
    from history_by_month
    inner join history_totals
        on history_by_month.kpi_code = history_totals.kpi_code
        and history_by_month.org_unit_id = history_totals.org_unit_id
        and history_by_month.financial_year = history_totals.financial_year
    where history_totals.has_enough_history
),

-- Calendar month_of_year (1 = January) to financial month (1 = April); weights normalised.
owner_shares as (
    select
        kpi_code,
        org_unit_id,
        (month_of_year + 8) % 12 + 1 as financial_month_number,
        weight / sum(weight) over (partition by kpi_code, org_unit_id) as month_share
    from owner_profiles
),

chosen as (
    select
        profiled_targets.kpi_code,
        profiled_targets.org_unit_id,
        profiled_targets.org_level,
        profiled_targets.service_id,
        profiled_targets.financial_year,
        profiled_targets.year_start,
        months.financial_month_number,
        case when profiled_targets.target_basis <> 'period_sum' then 1.0 / 12 else coalesce(
            owner_unit.month_share, owner_kpi.month_share, unit_history.month_share, service_history.month_share, 1.0 / 12
        ) end as month_share,
        case
            when profiled_targets.target_basis <> 'period_sum' then null
            when owner_unit.kpi_code is not null then 'owner profile for the unit'
            when owner_kpi.kpi_code is not null then 'owner profile for the KPI'
            when unit_history.kpi_code is not null then 'unit pattern, last three years'
            when service_history.kpi_code is not null then 'service pattern, last three years'
            else 'flat'
        end as target_profile_source
    from profiled_targets
    cross join months
    left join owner_shares as owner_unit
        on profiled_targets.kpi_code = owner_unit.kpi_code
        and profiled_targets.org_unit_id = owner_unit.org_unit_id
        and months.financial_month_number = owner_unit.financial_month_number
    left join owner_shares as owner_kpi
        on profiled_targets.kpi_code = owner_kpi.kpi_code
        and owner_kpi.org_unit_id is null
        and months.financial_month_number = owner_kpi.financial_month_number
    left join history_shares as unit_history
        on profiled_targets.kpi_code = unit_history.kpi_code
        and profiled_targets.org_unit_id = unit_history.org_unit_id
        and profiled_targets.financial_year = unit_history.financial_year
        and months.financial_month_number = unit_history.financial_month_number
    left join history_shares as service_history
        on profiled_targets.kpi_code = service_history.kpi_code
        and profiled_targets.service_id = service_history.org_unit_id
        and profiled_targets.financial_year = service_history.financial_year
        and months.financial_month_number = service_history.financial_month_number
),

final as (
    select
        kpi_code,
        org_unit_id,
        org_level,
        service_id,
        financial_year,
        financial_month_number,
        cast(year_start + (financial_month_number - 1) * interval '1 month' as date) as period_month,
        month_share,
        -- Rounded to 12 places: a running sum of twelfths otherwise ends a last bit short of 1.
        round(sum(month_share) over (
            partition by kpi_code, org_unit_id, financial_year
            order by financial_month_number
            rows between unbounded preceding and current row
        ), 12) as cumulative_share,
        target_profile_source
    from chosen
)

select * from final
