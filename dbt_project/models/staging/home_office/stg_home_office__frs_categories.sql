with

source as (

    select * from {{ source('home_office', 'frs_categories') }}

),

renamed as (

    select

        ----------  keys
        -- 'Hampshire and Isle Of Wight' here, 'Hampshire and Isle of Wight' in FIRE1001.
        {{ standardise_frs_name('frs_name') }} as frs_category_sk,
        {{ standardise_frs_name('frs_name') }} as frs_name,

        ----------  codes
        {{ canonical_code(
            'urban_rural_category',
            ['Predominantly Urban', 'Significantly Rural', 'Predominantly Rural']
        ) }} as urban_rural_category,
        {{ canonical_code('metropolitan_category', ['Metropolitan', 'Non-metropolitan']) }}
            as metropolitan_category,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
