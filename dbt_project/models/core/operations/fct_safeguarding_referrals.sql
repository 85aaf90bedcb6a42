-- Safeguarding referrals made to, and received from, partner agencies.
with referrals as (
    select * from {{ ref('stg_safeguarding__referrals') }}
),

classified as (
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
),

-- Which records each KPI counts (is_counted_for_<kpi>): true counted, false in the KPI's scope but
-- excluded (exclusion_reason says why), null outside it. The KPI models count these flags and the
-- app's drill-through lists them: the record selection is stated here only.
final as (
    select
        classified.*,
        -- Referrals the service made (not those it received).
        case when classified.is_made then true end as is_counted_for_safeguard_refs
    from classified
)

select * from final
