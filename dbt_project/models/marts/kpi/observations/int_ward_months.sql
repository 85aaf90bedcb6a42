-- Every ward (and the service's UNALLOCATED ward) in every month its service has incident data:
-- the geography twin of int_station_months, with each ward's own denominators, and the map from
-- a ward code as recorded to the ward it is reported under.
with ancestry as (
    select distinct period_month, org_unit_id as ward_unit_id
    from {{ ref('int_org_unit_ancestry_monthly') }}
    where ancestor_level = 'ward' and org_unit_id = ancestor_org_unit_id
),

wards as (
    select distinct org_unit_id as ward_unit_id, service_id
    from {{ ref('dim_org_unit') }}
    where org_level = 'ward'
),

service_months as (
    select distinct service_id, period_month from {{ ref('int_incidents_by_station_month') }}
),

denominators as (
    select
        service_id || '-WARD-' || ward_code as ward_unit_id,
        population,
        dwellings,
        non_domestic_properties,
        denominator_vintage
    from {{ ref('dim_geography') }}
    where is_current_ward
),

final as (
    select
        ancestry.ward_unit_id,
        wards.service_id,
        ancestry.period_month,
        denominators.population,
        denominators.dwellings,
        denominators.non_domestic_properties,
        denominators.denominator_vintage
    from ancestry
    inner join wards on ancestry.ward_unit_id = wards.ward_unit_id
    inner join service_months
        on wards.service_id = service_months.service_id
        and ancestry.period_month = service_months.period_month
    left join denominators on ancestry.ward_unit_id = denominators.ward_unit_id
)

select * from final
