with

source as (

    select * from {{ source('safeguarding', 'referrals') }}

),

renamed as (

    select

        ----------  keys
        service_id || '-' || referral_id as referral_sk,
        referral_id,
        service_id,

        ----------  foreign keys
        service_id || '-' || station_id as station_sk,
        station_id,

        ----------  codes
        {{ clean_code('direction') }} as direction,
        {{ clean_code('subject_group') }} as subject_group,
        {{ clean_text('partner_agency') }} as partner_agency,
        {{ clean_text('concern_type') }} as concern_type,

        ----------  dates
        referral_date,

        ----------  lineage
        _source_file,
        _source_row,
        _batch_id

    from source

)

select * from renamed
