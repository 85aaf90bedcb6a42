-- Prevention, protection, safeguarding, on-call availability and wholetime watch
-- productivity KPIs at their lowest grain (watch where recorded, else station) x month.
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
    select 'HFSV_DONE' as kpi_code, org_unit_id, service_id, period_month, cast(visits_done as double) as numerator, cast(null as double) as denominator, cast(null as varchar) as denominator_vintage from visit_counts
    union all select 'HFSV_HIGH_RISK_PCT', org_unit_id, service_id, period_month, high_risk_visits, visits_high_risk_base, null from visit_counts
    union all select 'FSA_DONE', org_unit_id, service_id, period_month, rbip_audits, null, null from audit_counts
    union all select 'FSA_UNSAT_PCT', org_unit_id, service_id, period_month, unsatisfactory, audits_unsat_base, null from audit_counts
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
