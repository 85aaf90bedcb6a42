with

source as (

    select * from {{ source('ons', 'lad_fra_lookup') }}

),

renamed as (

    select

        ----------  keys
        lad19_code as lad_fra_lookup_sk,
        lad19_code,

        ----------  foreign keys
        fra19_code,

        ----------  attributes
        {{ clean_text('lad19_name') }} as lad19_name,
        {{ clean_text('fra19_name') }} as fra19_name,

        ----------  measures
        -- British Red Cross derived: a duration serialised as a time of day on Excel's epoch,
        -- '1899-12-31T00:08:04Z' = 8 min 04 s. Null when the text is not in that shape.
        response_time_three_year_average,
        case
            when response_time_three_year_average like '____-__-__T__:__:__%'
                then cast(substring(response_time_three_year_average, 12, 2) as integer) * 3600
                + cast(substring(response_time_three_year_average, 15, 2) as integer) * 60
                + cast(substring(response_time_three_year_average, 18, 2) as integer)
        end as response_time_three_year_average_seconds,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
