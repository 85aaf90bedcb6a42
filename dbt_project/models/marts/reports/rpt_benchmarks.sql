-- Each service against its comparators on response times, by financial year and fire type:
-- from Home Office FIRE1001 (the service itself, its rural/urban and metropolitan groupings,
-- its comparator group and England) and from the services held in this warehouse.
with fire1001 as (
    select
        replace(financial_year, '/', '-') as financial_year,
        fire_type,
        location_level,
        location_category,
        frs_name,
        count_incidents,
        total_response_minutes,
        call_handling_minutes,
        crew_turnout_minutes,
        drive_minutes,
        is_partial_year
    from {{ ref('stg_home_office__fire1001_annual') }}
),

categories as (
    select * from {{ ref('stg_home_office__frs_categories') }}
),

services as (
    select * from {{ ref('services') }}
),

comparator_groups as (
    select * from {{ ref('comparator_groups') }}
),

response as (
    select * from {{ ref('fct_incident_response') }} where is_valid_response
),

dates as (
    select distinct month_start_date, financial_year from {{ ref('dim_date') }}
),

own_rows as (
    select
        services.service_id,
        'service' as comparator_type,
        fire1001.location_category as comparator_name,
        fire1001.*
    from services
    inner join fire1001 on fire1001.location_level = 'frs' and services.fire1001_name = fire1001.frs_name
),

grouping_rows as (
    select
        services.service_id,
        case when fire1001.location_category in ('Metropolitan', 'Non-metropolitan') then 'metropolitan_category' else 'urban_rural_category' end as comparator_type,
        fire1001.location_category as comparator_name,
        fire1001.*
    from services
    inner join categories on services.fire1001_name = categories.frs_name
    inner join fire1001
        on fire1001.location_level = 'grouping'
        and fire1001.location_category in (categories.urban_rural_category, categories.metropolitan_category)
),

england_rows as (
    select services.service_id, 'england' as comparator_type, 'England' as comparator_name, fire1001.*
    from services
    cross join fire1001
    where fire1001.location_level = 'national'
),

-- A comparator group's figure weights each member by its incidents (a mean of means would not).
group_rows as (
    select
        comparator_groups.service_id,
        'comparator_group' as comparator_type,
        comparator_groups.comparator_group as comparator_name,
        fire1001.financial_year,
        fire1001.fire_type,
        sum(fire1001.count_incidents) as count_incidents,
        sum(fire1001.total_response_minutes * fire1001.count_incidents) / nullif(sum(fire1001.count_incidents), 0) as total_response_minutes,
        sum(fire1001.call_handling_minutes * fire1001.count_incidents) / nullif(sum(fire1001.count_incidents), 0) as call_handling_minutes,
        sum(fire1001.crew_turnout_minutes * fire1001.count_incidents) / nullif(sum(fire1001.count_incidents), 0) as crew_turnout_minutes,
        sum(fire1001.drive_minutes * fire1001.count_incidents) / nullif(sum(fire1001.count_incidents), 0) as drive_minutes,
        bool_or(fire1001.is_partial_year) as is_partial_year,
        count(distinct fire1001.frs_name) as count_members
    from comparator_groups
    inner join fire1001
        on fire1001.location_level = 'frs'
        and comparator_groups.frs_name = fire1001.frs_name
    group by comparator_groups.service_id, comparator_groups.comparator_group, fire1001.financial_year, fire1001.fire_type
),

-- The services in this warehouse, measured the FIRE1001 way: mean total response to primary
-- fires and to dwelling fires, after the Home Office exclusions.
warehouse_measures as (
    select
        response.service_id as measured_service_id,
        dates.financial_year,
        fire_types.fire_type,
        count(*) as count_incidents,
        avg(response.total_response_seconds) / 60.0 as total_response_minutes,
        avg(response.call_handling_seconds) / 60.0 as call_handling_minutes,
        avg(response.turnout_seconds) / 60.0 as crew_turnout_minutes,
        avg(response.drive_seconds) / 60.0 as drive_minutes
    from response
    inner join dates on response.period_month = dates.month_start_date
    inner join (select 'Primary' as fire_type union all select 'Dwellings') as fire_types
        on response.incident_category = 'primary_fire'
        and (fire_types.fire_type = 'Primary' or response.is_dwelling_fire)
    group by response.service_id, dates.financial_year, fire_types.fire_type
),

-- A warehouse year is partial while it is unfinished (the year holding the reporting cut-off,
-- the first day after the last complete month) or when the service's data covers fewer than its 12 months
-- (LFB's 2022-23 holds January to March only). Months are counted over every valid response,
-- not only fires, so a quiet month with no fire does not make a year look partial.
warehouse_coverage as (
    select
        response.service_id as measured_service_id,
        dates.financial_year,
        count(distinct response.period_month) as count_months
    from response
    inner join dates on response.period_month = dates.month_start_date
    group by response.service_id, dates.financial_year
),

unfinished_year as (
    select {{ financial_year_label(as_of_month()) }} as financial_year
),

warehouse_rows as (
    select
        services.service_id,
        case when warehouse_measures.measured_service_id = services.service_id then 'service' else 'warehouse_service' end as comparator_type,
        warehouse_measures.measured_service_id as comparator_name,
        warehouse_measures.financial_year,
        warehouse_measures.fire_type,
        warehouse_measures.count_incidents,
        warehouse_measures.total_response_minutes,
        warehouse_measures.call_handling_minutes,
        warehouse_measures.crew_turnout_minutes,
        warehouse_measures.drive_minutes,
        warehouse_coverage.count_months < 12
            or warehouse_measures.financial_year = unfinished_year.financial_year as is_partial_year
    from services
    -- Only services this warehouse holds (the seed also lists services whose data is absent).
    inner join (select distinct service_id from {{ ref('dim_org_unit') }}) as held
        on services.service_id = held.service_id
    cross join warehouse_measures
    inner join warehouse_coverage
        on warehouse_measures.measured_service_id = warehouse_coverage.measured_service_id
        and warehouse_measures.financial_year = warehouse_coverage.financial_year
    cross join unfinished_year
),

unioned as (
    select service_id, comparator_type, comparator_name, financial_year, fire_type, count_incidents, total_response_minutes,
        call_handling_minutes, crew_turnout_minutes, drive_minutes, is_partial_year, 'FIRE1001' as source
    from own_rows
    union all
    select service_id, comparator_type, comparator_name, financial_year, fire_type, count_incidents, total_response_minutes,
        call_handling_minutes, crew_turnout_minutes, drive_minutes, is_partial_year, 'FIRE1001'
    from grouping_rows
    union all
    select service_id, comparator_type, comparator_name, financial_year, fire_type, count_incidents, total_response_minutes,
        call_handling_minutes, crew_turnout_minutes, drive_minutes, is_partial_year, 'FIRE1001'
    from england_rows
    union all
    select service_id, comparator_type, comparator_name, financial_year, fire_type, count_incidents, total_response_minutes,
        call_handling_minutes, crew_turnout_minutes, drive_minutes, is_partial_year, 'FIRE1001'
    from group_rows
    union all
    select service_id, comparator_type, comparator_name, financial_year, fire_type, count_incidents, total_response_minutes,
        call_handling_minutes, crew_turnout_minutes, drive_minutes, is_partial_year, 'warehouse'
    from warehouse_rows
),

final as (
    select
        service_id || '|' || source || '|' || comparator_type || '|' || comparator_name || '|' || financial_year || '|' || fire_type as benchmark_sk,
        service_id,
        source,
        comparator_type,
        comparator_name,
        financial_year,
        fire_type,
        cast(count_incidents as bigint) as count_incidents,
        total_response_minutes,
        call_handling_minutes,
        crew_turnout_minutes,
        drive_minutes,
        is_partial_year
    from unioned
)

select * from final
