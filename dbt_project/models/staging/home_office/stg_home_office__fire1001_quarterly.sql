with

source as (

    select * from {{ source('home_office', 'fire1001_quarterly') }}

),

renamed as (

    select

        ----------  keys
        year_ending_quarter || '-' || fire_type || '-' || location_category as fire1001_quarterly_sk,
        year_ending_quarter,
        fire_type,
        location_category,

        {{ fire1001_location_and_measures() }}

        ----------  flags
        -- The first rolling year covers April to September 2010 only.
        year_ending_quarter = 'Year ending September 2010' as is_partial_year,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
