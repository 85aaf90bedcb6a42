-- Local authority -> ward, with the denominators each rate uses and their vintage.
with wards as (
    select * from {{ ref('stg_reference__wards') }}
),

final as (
    select
        ward_sk,
        ward_code,
        service_id,
        station_sk,
        lad_code,
        ward_name,
        lad_name,
        population,
        dwellings,
        non_domestic_properties,
        vintage_year,
        'ward reference ' || cast(vintage_year as varchar) as denominator_vintage
    from wards
)

select * from final
