with

source as (

    select * from {{ source('reference', 'appliances') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || appliance_id as appliance_sk,
        appliance_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_id as station_sk,
        station_id,

        ----------  attributes
        {{ clean_text('appliance_type') }} as appliance_type,
        {{ clean_code('duty_system') }} as duty_system,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
