-- Where each KPI with an annual target will end the financial year, at every unit-month: the
-- year to date plus the profiled remainder of the year at this year's run rate, an 80 % interval
-- from the unit's month-to-month variation over the three years before, and whether the annual
-- target is likely met. The arithmetic, in docs/analyst.md ("Year-end projection"):
--   c = the profiled share of the year to the end of this month (int_kpi_target_profiles;
--       months / 12 for level targets);
--   projected numerator = numerator YTD / c  (YTD + (1 - c) x the run rate numerator YTD / c);
--   projected denominator = the YTD mean for stocks (population, FTE), denominator YTD / c for flows;
--   projected value = the numerator (counts), or their ratio x multiplier (rates, percentages, means).
-- Interval: z(80 %) = 1.2816 x the standard deviation of the monthly residuals x sqrt(months left),
-- residuals being each month's numerator less its year's total x the month's share (period_sum
-- targets, then over the projected denominator for rates), or each month's value less its
-- year's value (level targets, then / 12 as one month is a twelfth of the year's ratio).
-- A projection only reads its own and earlier months, so the months int_kpi_months_to_recompute
-- lists are the only ones whose projection can change (with the targets, which the reports compare).
with monthly as (
    select * from {{ ref('int_kpi_monthly_values') }}
),

targets as (
    select * from {{ ref('int_kpi_targets_cascaded') }}
),

profiles as (
    select * from {{ ref('int_kpi_target_profiles') }}
),

kpis as (
    select * from {{ ref('dim_kpi') }}
),

-- The unit-months to project: those with an annual target.
targeted as (
    select
        monthly.kpi_code,
        monthly.org_unit_id,
        monthly.org_level,
        monthly.service_id,
        monthly.period_month,
        monthly.financial_year,
        monthly.financial_month_number,
        cast(left(monthly.financial_year, 4) || '-04-01' as date) as year_start,
        monthly.numerator_ytd,
        monthly.denominator_ytd,
        targets.annual_target,
        kpis.target_basis,
        kpis.time_aggregation,
        kpis.is_count,
        kpis.multiplier,
        kpis.polarity,
        kpis.is_small_count_spc,
        coalesce(profiles.cumulative_share, monthly.financial_month_number / 12.0) as cumulative_share
    from monthly
    inner join kpis on monthly.kpi_code = kpis.kpi_code
    inner join targets
        on monthly.kpi_code = targets.kpi_code
        and monthly.org_unit_id = targets.org_unit_id
        and monthly.financial_year = targets.financial_year
    left join profiles
        on monthly.kpi_code = profiles.kpi_code
        and monthly.org_unit_id = profiles.org_unit_id
        and monthly.period_month = profiles.period_month
    where targets.annual_target is not null
),

unit_years as (
    select distinct kpi_code, org_unit_id, financial_year, year_start, target_basis from targeted
),

-- The three financial years before each projected year, month by month, with each year's totals.
history as (
    select
        unit_years.kpi_code,
        unit_years.org_unit_id,
        unit_years.financial_year,
        unit_years.target_basis,
        monthly.financial_year as history_year,
        monthly.financial_month_number,
        monthly.numerator,
        monthly.numerator / nullif(monthly.denominator, 0) * kpis.multiplier as value,
        sum(monthly.numerator) over history_year as year_numerator,
        sum(monthly.numerator) over history_year
            / nullif(sum(monthly.denominator) over history_year, 0) * kpis.multiplier as year_value
    from unit_years
    inner join monthly
        on unit_years.kpi_code = monthly.kpi_code
        and unit_years.org_unit_id = monthly.org_unit_id
        and {{ add_months('unit_years.year_start', -36) }} <= monthly.period_month
        and unit_years.year_start > monthly.period_month
    inner join kpis on unit_years.kpi_code = kpis.kpi_code
    window history_year as (
        partition by unit_years.kpi_code, unit_years.org_unit_id, unit_years.financial_year, monthly.financial_year
    )
),

residuals as (
    select
        history.kpi_code,
        history.org_unit_id,
        history.financial_year,
        case
            when history.target_basis = 'period_sum'
                then history.numerator - history.year_numerator * coalesce(profiles.month_share, 1.0 / 12)
            else history.value - history.year_value
        end as residual
    from history
    left join profiles
        on history.kpi_code = profiles.kpi_code
        and history.org_unit_id = profiles.org_unit_id
        and history.financial_year = profiles.financial_year
        and history.financial_month_number = profiles.financial_month_number
),

variation as (
    select
        kpi_code,
        org_unit_id,
        financial_year,
        stddev_samp(residual) as residual_sd,
        count(residual) as count_history_months
    from residuals
    group by kpi_code, org_unit_id, financial_year
),

projected as (
    select
        targeted.*,
        variation.residual_sd,
        coalesce(variation.count_history_months, 0) as count_history_months,
        12 - targeted.financial_month_number as count_months_left,
        targeted.numerator_ytd / nullif(targeted.cumulative_share, 0) as projected_numerator,
        case
            when targeted.time_aggregation = 'sum_over_mean' then targeted.denominator_ytd
            else targeted.denominator_ytd / nullif(targeted.cumulative_share, 0)
        end as projected_denominator
    from targeted
    left join variation
        on targeted.kpi_code = variation.kpi_code
        and targeted.org_unit_id = variation.org_unit_id
        and targeted.financial_year = variation.financial_year
),

valued as (
    select
        *,
        case
            when is_count then projected_numerator
            else projected_numerator / nullif(projected_denominator, 0) * multiplier
        end as projected_value,
        -- What has already happened, on the year's scale: a count cannot end below it.
        case
            when target_basis <> 'period_sum' then null
            when is_count then numerator_ytd
            else numerator_ytd / nullif(projected_denominator, 0) * multiplier
        end as value_floor,
        1.2816 * case
            when count_history_months < 12 then null
            when target_basis <> 'period_sum' then residual_sd * sqrt(count_months_left) / 12
            when is_count then residual_sd * sqrt(count_months_left)
            else residual_sd * sqrt(count_months_left) / nullif(projected_denominator, 0) * multiplier
        end as half_width
    from projected
),

bounded as (
    select
        *,
        -- Six decimal places: an estimate's interval, not an exact figure.
        round(case
            when value_floor is null then projected_value - half_width
            else greatest(projected_value - half_width, value_floor)
        end, 6) as projected_lower_80,
        round(projected_value + half_width, 6) as projected_upper_80
    from valued
),

final as (
    select
        kpi_code,
        org_unit_id,
        org_level,
        service_id,
        period_month,
        financial_year,
        annual_target,
        cumulative_share,
        projected_numerator,
        projected_denominator,
        projected_value,
        projected_lower_80,
        projected_upper_80,
        case
            when polarity not in ('up', 'down') or projected_value is null or projected_lower_80 is null then null
            when {{ judged_by_spc_only() }} then null
            when polarity = 'up' and projected_lower_80 >= annual_target then 'likely met'
            when polarity = 'up' and projected_upper_80 < annual_target then 'likely missed'
            when polarity = 'down' and projected_upper_80 <= annual_target then 'likely met'
            when polarity = 'down' and projected_lower_80 > annual_target then 'likely missed'
            else 'at risk'
        end as projection_outlook,
        residual_sd,
        count_history_months
    from bounded
)

select * from final
