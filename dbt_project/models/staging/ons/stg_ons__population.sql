with

source as (

    select * from {{ source('ons', 'population') }}

),

renamed as (

    select

        ----------  keys
        code as population_sk,
        code as area_code,

        ----------  attributes
        -- Two names end in a non-breaking space ('West Northamptonshire\xa0').
        {{ clean_text('name') }} as area_name,
        {{ clean_text('geography') }} as geography,

        ----------  measures
        population_mid_2021,
        population_mid_2011,
        population_mid_2001,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
