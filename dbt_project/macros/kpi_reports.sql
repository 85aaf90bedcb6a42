{#- Shared by the two KPI reports, rpt_kpi_monthly and rpt_kpi_quarterly. -#}

{#- A KPI's target for one period, for a report joining ``kpis`` (dim_kpi) and ``targets``
    (int_kpi_targets_cascaded): a period_sum target is the annual total shared over the year's
    ``periods`` (a literal such as '12.0'), a level applies unchanged. -#}
{% macro period_target(periods) -%}
    case when kpis.target_basis = 'period_sum' then targets.annual_target / {{ periods }} else targets.annual_target end
{%- endmacro %}


{#- On an incremental run, the CTEs that find what a report holds that no longer holds true,
    after a ``held`` CTE (the report's rows): ``changed_targets`` (kpi_code, org_unit_id,
    financial_year) whose target for the report's ``periods`` differs, and ``renamed_units``
    (org_unit_id) whose name changed. Targets are matched by key and equal to a relative 1e-9:
    cascaded targets are sums of doubles, whose last bits move from run to run when nothing
    changed (see changed_groups_only). -#}
{% macro report_changes_from_held(periods) -%}
expected_targets as (
    select
        targets.kpi_code || '|' || targets.org_unit_id || '|' || targets.financial_year as target_key,
        targets.kpi_code,
        targets.org_unit_id,
        targets.financial_year,
        {{ period_target(periods) }} as target,
        targets.target_source
    from targets
    inner join kpis on targets.kpi_code = kpis.kpi_code
),

held_targets as (
    select distinct
        kpi_code || '|' || org_unit_id || '|' || financial_year as target_key,
        kpi_code, org_unit_id, financial_year, target, target_source
    from held
    where target is not null or target_source is not null
),

changed_targets as (
    {{ keys_that_differ_by_row('expected_targets', 'held_targets', ['kpi_code', 'org_unit_id', 'financial_year'],
        'target_key', ['target', 'target_source'], ['target']) }}
),

renamed_units as (
    select org_unit_id from (
        select distinct org_unit_id, org_unit_name from held
        except
        select org_unit_id, org_unit_name from units
    ) as renamed
)
{%- endmacro %}
