with

source as (

    select * from {{ source('availability', 'oncall_availability') }}

),

renamed as (

    select

        ----------  keys
        -- One row per appliance-day.
        service_id || '-' || appliance_id || '-'
        || cast(availability_date as {{ dbt.type_string() }}) as availability_sk,
        service_id,

        ----------  foreign keys
        service_id || '-' || appliance_id as appliance_sk,
        service_id || '-' || station_id as station_sk,
        appliance_id,
        station_id,

        ----------  measures
        hours_available,

        ----------  dates
        availability_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
