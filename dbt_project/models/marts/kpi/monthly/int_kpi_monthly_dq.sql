-- Data-quality status for every KPI value: the records behind it (same service, month and
-- source systems, at or below the unit) that were quarantined or flagged by a check. A
-- record placed only at its service (its station unreadable), or from a snapshot system
-- such as HR, marks every unit of that service.
with records as (
    select * from {{ ref('int_dq_records_by_station_month') }}
    where outcome <> 'clean'
),

snapshot_flags as (
    select
        split_part(replace(target, 'raw.', ''), '__', 1) as system,
        service_id,
        count(*) filter (where severity = 'warning') as count_flagged_warning,
        count(*) filter (where severity = 'blocking') as count_flagged_blocking
    from {{ source('audit', 'dq_record_flags') }}
    where target like 'raw.%'
        and split_part(replace(target, 'raw.', ''), '__', 1)
            not in ('irs', 'mobilising', 'prevention', 'protection', 'availability', 'safeguarding')
    group by 1, 2
),

issues as (
    select
        system,
        service_id,
        station_sk,
        period_month,
        {{ sum_records("outcome = 'flagged_warning'") }} as count_flagged_warning,
        {{ sum_records("outcome = 'flagged_blocking'") }} as count_flagged_blocking,
        {{ sum_records("outcome = 'quarantined'") }} as count_quarantined
    from records
    group by system, service_id, station_sk, period_month
    union all
    select system, service_id, null, null, count_flagged_warning, count_flagged_blocking, 0
    from snapshot_flags
),

ancestry as (
    select * from {{ ref('int_org_unit_ancestry_monthly') }}
),

issues_by_unit as (
    select issues.*, ancestry.ancestor_org_unit_id as org_unit_id
    from issues
    inner join ancestry
        on issues.station_sk = ancestry.org_unit_id
        and issues.period_month = ancestry.period_month
    union all
    select issues.*, cast(null as varchar) as org_unit_id
    from issues
    where issues.station_sk is null
    union all
    -- Records are placed by station, not ward: an issue at any station of the service marks its
    -- districts and wards (their records may be among those affected).
    select issues.*, geography.org_unit_id
    from issues
    inner join (
        select distinct org_unit_id, service_id from {{ ref('dim_org_unit') }} where hierarchy = 'geography'
    ) as geography
        on issues.service_id = geography.service_id
    where issues.station_sk is not null
),

values_ as (
    select kpi_code, org_unit_id, service_id, period_month from {{ ref('int_kpi_monthly_values') }}
),

kpis as (
    select kpi_code, source_systems from {{ ref('dim_kpi') }}
),

matched as (
    select
        values_.kpi_code,
        values_.org_unit_id,
        values_.service_id,
        values_.period_month,
        issues_by_unit.system,
        sum(issues_by_unit.count_flagged_warning) as flagged_warning,
        sum(issues_by_unit.count_flagged_blocking) as flagged_blocking,
        sum(issues_by_unit.count_quarantined) as quarantined
    from values_
    inner join kpis on values_.kpi_code = kpis.kpi_code
    inner join issues_by_unit
        on values_.service_id = issues_by_unit.service_id
        and position(issues_by_unit.system in kpis.source_systems) > 0
        and (issues_by_unit.period_month is null or values_.period_month = issues_by_unit.period_month)
        and (issues_by_unit.org_unit_id is null or values_.org_unit_id = issues_by_unit.org_unit_id)
    group by values_.kpi_code, values_.org_unit_id, values_.service_id, values_.period_month, issues_by_unit.system
),

final as (
    select
        kpi_code,
        org_unit_id,
        service_id,
        period_month,
        case when sum(flagged_blocking) > 0 then 'fail' else 'warn' end as dq_status,
        cast(sum(flagged_warning + flagged_blocking + quarantined) as bigint) as dq_records_affected,
        string_agg(
            system || ': '
            || case when quarantined > 0 then cast(quarantined as varchar) || ' quarantined' else '' end
            || case when quarantined > 0 and flagged_warning + flagged_blocking > 0 then ', ' else '' end
            || case when flagged_warning + flagged_blocking > 0
                then cast(flagged_warning + flagged_blocking as varchar) || ' flagged' else '' end,
            '; ' order by system
        ) as dq_note
    from matched
    group by kpi_code, org_unit_id, service_id, period_month
)

select * from final
