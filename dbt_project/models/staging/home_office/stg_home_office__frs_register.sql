with

source as (

    select * from {{ source('home_office', 'frs_register') }}

),

renamed as (

    select

        ----------  keys
        -- Zero-padded text ('001'..'045'): never cast to a number.
        register_id as frs_register_sk,
        register_id,

        ----------  attributes
        {{ clean_text('name') }} as service_name,

        ----------  dates
        start_date,
        end_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
