-- Resolve a ward as recorded on a fact (ward_sk) to the geography unit it is reported under: its
-- current successor's ward unit. A record whose ward is not here (none recorded, a code the
-- reference does not know, or a successor chain that leads nowhere) goes to the service's
-- UNALLOCATED ward.
with wards as (
    select * from {{ ref('dim_geography') }}
),

final as (
    select
        recorded.ward_sk,
        recorded.service_id,
        current_wards.service_id || '-WARD-' || current_wards.ward_code as ward_unit_id
    from wards as recorded
    inner join wards as current_wards on recorded.current_ward_sk = current_wards.ward_sk
)

select * from final
