with

source as (

    select * from {{ source('reference', 'ward_successors') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || ward_code as ward_sk,
        ward_code,
        service_id,

        ----------  foreign keys
        -- The ward that replaced this one at a boundary review.
        successor_ward_code,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
