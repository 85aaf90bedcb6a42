-- Local authority -> ward, with the denominators each rate uses and their vintage. A ward that a
-- boundary review replaced names its successor; current_ward_sk follows the chain (up to five
-- reviews) to the ward its records are reported under today: null where the chain leads to a
-- code the reference does not hold, or is longer (a cycle), so those records are UNALLOCATED.
-- Boundary reviews come as their own optional reference (ward_successors): a code only that file
-- names (a ward the current reference no longer lists) is a row too, so its records still follow
-- the chain.
with listed as (
    select * from {{ ref('stg_reference__wards') }}
),

successors as (
    select * from {{ ref('stg_reference__ward_successors') }}
),

wards as (
    select listed.*, successors.successor_ward_code
    from listed
    left join successors on listed.ward_sk = successors.ward_sk
    union all by name
    select
        successors.ward_sk,
        successors.ward_code,
        successors.service_id,
        successors.successor_ward_code
    from successors
    where successors.ward_sk not in (select listed.ward_sk from listed)
),

chains as (
    select
        w0.ward_sk,
        case
            when w0.successor_ward_code is null then w0.ward_sk
            -- A successor missing from the reference leaves its join null: unresolved.
            when w1.successor_ward_code is null then w1.ward_sk
            when w2.successor_ward_code is null then w2.ward_sk
            when w3.successor_ward_code is null then w3.ward_sk
            when w4.successor_ward_code is null then w4.ward_sk
            when w5.successor_ward_code is null then w5.ward_sk
        end as current_ward_sk
    from wards as w0
    left join wards as w1 on w0.service_id || '-' || w0.successor_ward_code = w1.ward_sk
    left join wards as w2 on w1.service_id || '-' || w1.successor_ward_code = w2.ward_sk
    left join wards as w3 on w2.service_id || '-' || w2.successor_ward_code = w3.ward_sk
    left join wards as w4 on w3.service_id || '-' || w3.successor_ward_code = w4.ward_sk
    left join wards as w5 on w4.service_id || '-' || w4.successor_ward_code = w5.ward_sk
),

final as (
    select
        wards.ward_sk,
        wards.ward_code,
        wards.service_id,
        wards.station_sk,
        wards.lad_code,
        -- The ward the records under this code are reported under: itself while current.
        chains.current_ward_sk,
        wards.ward_name,
        wards.lad_name,
        wards.successor_ward_code,
        wards.successor_ward_code is null as is_current_ward,
        wards.population,
        wards.dwellings,
        wards.non_domestic_properties,
        wards.vintage_year,
        'ward reference ' || cast(wards.vintage_year as varchar) as denominator_vintage
    from wards
    inner join chains on wards.ward_sk = chains.ward_sk
)

select * from final
