-- Every station in every month its service has incident data: the spine that gives count and
-- rate KPIs a zero (not a missing row) when nothing happened, with the station's denominators.
with ancestry as (
    select distinct period_month, org_unit_id as station_sk
    from {{ ref('int_org_unit_ancestry_monthly') }}
    where ancestor_level = 'station' and org_unit_id = ancestor_org_unit_id
),

stations as (
    select distinct org_unit_id as station_sk, service_id from {{ ref('dim_org_unit') }} where org_level = 'station'
),

service_months as (
    select distinct service_id, period_month from {{ ref('int_incidents_by_station_month') }}
),

denominators as (
    select
        station_sk,
        sum(population) as population,
        sum(dwellings) as dwellings,
        sum(non_domestic_properties) as non_domestic_properties,
        max(denominator_vintage) as denominator_vintage
    from {{ ref('dim_geography') }}
    -- A retired ward's people and homes are counted in its successor.
    where is_current_ward
    group by station_sk
),

final as (
    select
        ancestry.station_sk,
        stations.service_id,
        ancestry.period_month,
        denominators.population,
        denominators.dwellings,
        denominators.non_domestic_properties,
        denominators.denominator_vintage
    from ancestry
    inner join stations on ancestry.station_sk = stations.station_sk
    inner join service_months
        on stations.service_id = service_months.service_id
        and ancestry.period_month = service_months.period_month
    left join denominators on ancestry.station_sk = denominators.station_sk
)

select * from final
