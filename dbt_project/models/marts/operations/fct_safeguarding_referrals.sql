-- Safeguarding referrals made to, and received from, partner agencies.
with referrals as (
    select * from {{ ref('stg_safeguarding__referrals') }}
),

final as (
    select
        referral_sk,
        service_id,
        station_sk,
        referral_date,
        {{ month_start('referral_date') }} as period_month,
        direction,
        direction = 'made' as is_made,
        partner_agency,
        subject_group,
        concern_type
    from referrals
)

select * from final
