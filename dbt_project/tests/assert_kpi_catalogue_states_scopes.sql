-- The scopes an independent recount found unwritten must stay written in the KPI catalogue:
-- on-call availability counts day-crewed appliances at 24 hours a day, AFA false alarms name
-- their property scope, and response times and incident counts say what happens to late calls.
-- Returns each KPI whose scope is missing or no longer says so.
with expected as (
    select 'ONCALL_AVAIL_PCT' as kpi_code, '%day-crewed%24 hours%' as pattern
    union all select 'AFA_1K_NONDOM', '%other residential%'
    union all select 'AFA_1K_NONDOM', '%late calls%'
    union all select 'INC_TOTAL', '%late calls%'
    union all select 'RESP_ADF_MEAN_MIN', '%late calls are excluded%'
    union all select 'RESP_STD_MET_PCT', '%late calls are excluded%'
    union all select 'FSA_DONE', '%risk-based inspection programme%'
)

select expected.kpi_code, expected.pattern, kpis.scope
from expected
left join {{ ref('dim_kpi') }} as kpis on expected.kpi_code = kpis.kpi_code
where kpis.scope is null or lower(kpis.scope) not like expected.pattern
