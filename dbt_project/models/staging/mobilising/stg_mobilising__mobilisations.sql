with

source as (

    select * from {{ source('mobilising', 'mobilisations') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || mobilisation_id as mobilisation_sk,
        mobilisation_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || incident_id as incident_sk,
        service_id || '-' || station_id as station_sk,
        service_id || '-' || appliance_id as appliance_sk,
        incident_id,
        station_id,
        appliance_id,

        ----------  attributes
        pump_order,

        ----------  timestamps
        call_received_at,
        mobilised_at,
        mobile_at,
        in_attendance_at,
        -- LFB's 2009 file has no call-received time: its month falls back to the mobilisation.
        cast(
            {{ dbt.date_trunc('month', 'coalesce(call_received_at, mobilised_at)') }} as date
        ) as call_month,

        ----------  response components (null where a stamp is missing)
        {{ seconds_between('call_received_at', 'mobilised_at') }} as call_handling_seconds,
        {{ seconds_between('mobilised_at', 'mobile_at') }} as turnout_seconds,
        {{ seconds_between('mobile_at', 'in_attendance_at') }} as drive_seconds,
        {{ seconds_between('call_received_at', 'in_attendance_at') }} as total_response_seconds,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
