-- Each profile in seeds/kpi_target_profiles.csv (a KPI, or a KPI at one unit) must give all 12
-- months a weight, no weight may be negative, the weights must not all be zero, and only a
-- KPI whose annual target is a total over the year (target_basis period_sum) can be profiled.
-- One row per broken profile, with the reason.
with profiles as (
    select * from {{ ref('kpi_target_profiles') }}
),

kpis as (
    select * from {{ ref('kpi_catalogue') }}
),

checked as (
    select
        profiles.kpi_code,
        profiles.org_unit_id,
        count(distinct profiles.month_of_year) as count_months,
        min(profiles.weight) as min_weight,
        sum(profiles.weight) as total_weight,
        max(kpis.target_basis) as target_basis
    from profiles
    left join kpis on profiles.kpi_code = kpis.kpi_code
    group by profiles.kpi_code, profiles.org_unit_id
),

final as (
    select
        kpi_code,
        org_unit_id,
        case
            when count_months <> 12 then 'has ' || cast(count_months as varchar) || ' months, not 12'
            when min_weight < 0 then 'has a negative weight'
            when total_weight <= 0 then 'weights sum to zero'
            when target_basis <> 'period_sum' then 'KPI target is a level (target_basis ' || target_basis || '), not a total to profile'
        end as failure
    from checked
)

select * from final
where failure is not null
