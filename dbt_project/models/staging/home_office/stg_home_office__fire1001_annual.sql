with

source as (

    select * from {{ source('home_office', 'fire1001_annual') }}

),

renamed as (

    select

        ----------  keys
        financial_year || '-' || fire_type || '-' || location_category as fire1001_annual_sk,
        financial_year,
        fire_type,
        location_category,

        {{ fire1001_location_and_measures() }}

        ----------  flags
        -- 2021/22 covers April to September 2021 only.
        financial_year = '2021/22' as is_partial_year,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
