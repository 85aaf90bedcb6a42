with

source as (

    select * from {{ source('reference', 'stations') }}

),

renamed as (

    select

        ----------  keys
        -- A station can have several versions (it moves group, changes duty system): the
        -- version is the row's key, station_sk the durable key that facts point at.
        service_id || '-' || station_id || '-'
        || cast(valid_from as {{ dbt.type_string() }}) as station_version_sk,
        service_id || '-' || station_id as station_sk,
        station_id,
        service_id,

        ----------  foreign keys
        group_id,
        lad_code,

        ----------  attributes
        {{ clean_text('station_name') }} as station_name,
        {{ clean_text('group_name') }} as group_name,
        {{ clean_code('duty_system') }} as duty_system,
        -- ';'-separated watch names, e.g. 'Red;White;Blue;Green;Day'; split downstream.
        watches,
        easting,
        northing,

        ----------  validity
        valid_from,
        valid_to,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
