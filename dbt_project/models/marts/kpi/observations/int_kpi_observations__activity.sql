-- Prevention, protection, safeguarding, on-call availability and wholetime watch
-- productivity KPIs at their lowest grain (watch where recorded, else station) x month. Visits and
-- audits also at ward x month, for the geography hierarchy (by the ward each is reported under).
with visits as (
    select * from {{ ref('fct_home_fire_safety_visits') }}
),

audits as (
    select * from {{ ref('fct_fire_safety_audits') }}
),

referrals as (
    select * from {{ ref('fct_safeguarding_referrals') }}
),

availability as (
    select * from {{ ref('fct_oncall_availability') }}
),

watch_targets as (
    select * from {{ ref('watch_activity_targets') }}
),

wholetime_watch_months as (
    select distinct ancestry.period_month, units.org_unit_id, units.service_id
    from {{ ref('int_org_unit_ancestry_monthly') }} as ancestry
    inner join {{ ref('dim_org_unit') }} as units
        on ancestry.org_unit_id = units.org_unit_id
        and ancestry.ancestor_org_unit_id = units.org_unit_id
    where units.org_level = 'watch'
        and units.duty_system = 'wholetime'
        and units.watch_name in ('Red', 'White', 'Blue', 'Green')
        and ancestry.period_month in (select distinct period_month from visits)
),

visit_counts as (
    select
        org_unit_id,
        service_id,
        period_month,
        -- Every visit, for the watches' activity target (WT_PRODUCTIVITY_PCT).
        count(*) as visits,
        count(*) filter (where is_counted_for_hfsv_done) as visits_done,
        count(*) filter (where is_counted_for_hfsv_high_risk_pct) as visits_high_risk_base,
        count(*) filter (where is_counted_for_hfsv_high_risk_pct and is_high_risk) as high_risk_visits
    from visits
    group by org_unit_id, service_id, period_month
),

-- Each KPI counts the audits fct_fire_safety_audits marks for it (FSA_DONE: the risk-based
-- inspection programme only; FSA_UNSAT_PCT: every audit); the watches' target counts every audit.
audit_counts as (
    select
        org_unit_id,
        service_id,
        period_month,
        count(*) as audits,
        count(*) filter (where is_counted_for_fsa_done) as rbip_audits,
        count(*) filter (where is_counted_for_fsa_unsat_pct) as audits_unsat_base,
        count(*) filter (where is_counted_for_fsa_unsat_pct and is_unsatisfactory) as unsatisfactory
    from audits
    group by org_unit_id, service_id, period_month
),

ward_lookup as (
    select * from {{ ref('int_ward_unit_lookup') }}
),

-- Services with a ward reference: the only ones with ward units.
ward_services as (
    select distinct service_id from ward_lookup
),

-- The same counts by the ward each visit or audit is reported under (no or an unknown ward: the
-- service's UNALLOCATED ward), beside the organisation units' counts for the KPI rows below.
visit_counts_with_wards as (
    select org_unit_id, service_id, period_month, visits_done, visits_high_risk_base, high_risk_visits
    from visit_counts
    union all
    select
        coalesce(ward_lookup.ward_unit_id, visits.service_id || '-WARD-UNALLOCATED'),
        visits.service_id,
        visits.period_month,
        count(*) filter (where visits.is_counted_for_hfsv_done),
        count(*) filter (where visits.is_counted_for_hfsv_high_risk_pct),
        count(*) filter (where visits.is_counted_for_hfsv_high_risk_pct and visits.is_high_risk)
    from visits
    left join ward_lookup on visits.ward_sk = ward_lookup.ward_sk
    where visits.service_id in (select ward_services.service_id from ward_services)
    group by 1, 2, 3
),

audit_counts_with_wards as (
    select org_unit_id, service_id, period_month, rbip_audits, audits_unsat_base, unsatisfactory
    from audit_counts
    union all
    select
        coalesce(ward_lookup.ward_unit_id, audits.service_id || '-WARD-UNALLOCATED'),
        audits.service_id,
        audits.period_month,
        count(*) filter (where audits.is_counted_for_fsa_done),
        count(*) filter (where audits.is_counted_for_fsa_unsat_pct),
        count(*) filter (where audits.is_counted_for_fsa_unsat_pct and audits.is_unsatisfactory)
    from audits
    left join ward_lookup on audits.ward_sk = ward_lookup.ward_sk
    where audits.service_id in (select ward_services.service_id from ward_services)
    group by 1, 2, 3
),

productivity as (
    select
        watches.org_unit_id,
        watches.service_id,
        watches.period_month,
        (case when coalesce(visit_counts.visits, 0) >= visit_target.monthly_target_per_watch then 1 else 0 end)
        + (case when coalesce(audit_counts.audits, 0) >= audit_target.monthly_target_per_watch then 1 else 0 end) as targets_met,
        2 as targets_set
    from wholetime_watch_months as watches
    inner join watch_targets as visit_target
        on watches.service_id = visit_target.service_id and visit_target.activity = 'home_fire_safety_visits'
    inner join watch_targets as audit_target
        on watches.service_id = audit_target.service_id and audit_target.activity = 'fire_safety_audits'
    left join visit_counts
        on watches.org_unit_id = visit_counts.org_unit_id and watches.period_month = visit_counts.period_month
    left join audit_counts
        on watches.org_unit_id = audit_counts.org_unit_id and watches.period_month = audit_counts.period_month
),

final as (
    select 'HFSV_DONE' as kpi_code, org_unit_id, service_id, period_month, cast(visits_done as double) as numerator, cast(null as double) as denominator, cast(null as varchar) as denominator_vintage from visit_counts_with_wards
    union all select 'HFSV_HIGH_RISK_PCT', org_unit_id, service_id, period_month, high_risk_visits, visits_high_risk_base, null from visit_counts_with_wards
    union all select 'FSA_DONE', org_unit_id, service_id, period_month, rbip_audits, null, null from audit_counts_with_wards
    union all select 'FSA_UNSAT_PCT', org_unit_id, service_id, period_month, unsatisfactory, audits_unsat_base, null from audit_counts_with_wards
    union all
    select 'SAFEGUARD_REFS', station_sk, service_id, period_month, count(*) filter (where is_counted_for_safeguard_refs), null, null
    from referrals group by station_sk, service_id, period_month
    union all
    select 'ONCALL_AVAIL_PCT', station_sk, service_id, period_month, sum(hours_available) filter (where is_counted_for_oncall_avail_pct),
        sum(hours_in_day) filter (where is_counted_for_oncall_avail_pct), null
    from availability group by station_sk, service_id, period_month
    union all select 'WT_PRODUCTIVITY_PCT', org_unit_id, service_id, period_month, targets_met, targets_set, null from productivity
)

select * from final
