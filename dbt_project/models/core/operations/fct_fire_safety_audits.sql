-- One row per fire safety audit under the risk-based inspection programme.
with audits as (
    select * from {{ ref('stg_protection__fire_safety_audits') }}
),

lookup as (
    select * from {{ ref('int_org_unit_lookup') }}
),

classified as (
    select
        audits.audit_sk,
        audits.service_id,
        audits.station_sk,
        coalesce(lookup.watch_unit_id, audits.station_sk) as org_unit_id,
        audits.ward_sk,
        audits.audit_date,
        {{ month_start('audits.audit_date') }} as period_month,
        audits.premises_id,
        audits.premises_type,
        audits.risk_band,
        audits.is_rbip,
        audits.outcome,
        audits.outcome = 'unsatisfactory' as is_unsatisfactory,
        audits._source_file,
        audits._source_row
    from audits
    left join lookup
        on audits.service_id = lookup.service_id
        and audits.station_id = lookup.station_id
        and upper(replace(audits.watch, '-', '')) = lookup.watch_code
),

-- Which records each KPI counts (is_counted_for_<kpi>): true counted, false in the KPI's scope but
-- excluded (exclusion_reason says why), null outside it. The KPI models count these flags and the
-- app's drill-through lists them: the record selection is stated here only.
final as (
    select
        classified.*,
        -- Audits of the risk-based inspection programme only (the catalogue's definition).
        case when classified.is_rbip then true end as is_counted_for_fsa_done,
        -- Every audit completed, of which those unsatisfactory (not scoped to the RBIP).
        true as is_counted_for_fsa_unsat_pct
    from classified
)

select * from final
