{#- Shared by the two KPI reports, rpt_kpi_monthly and rpt_kpi_quarterly. -#}

{#- A KPI's target for each of its periods, for a report joining ``kpis`` (dim_kpi), ``targets``
    (int_kpi_targets_cascaded) and ``profiles`` (int_kpi_target_profiles, one row a month): a
    period_sum target is the annual total x the period's profiled share of the year (the sum of
    its months' shares), a level applies unchanged; target_ytd likewise with the cumulative share
    to the period's end. Grouped by the report's ``period_column``
    (period_month or financial_quarter). -#}
{% macro period_targets(period_column) -%}
    select
        targets.kpi_code,
        targets.org_unit_id,
        targets.financial_year,
        {%- if period_column == 'period_month' %}
        profiles.period_month,
        {%- else %}
        'Q' || cast(cast(floor((profiles.financial_month_number - 1) / 3) as integer) + 1 as varchar) as financial_quarter,
        {%- endif %}
        case
            when max(kpis.target_basis) = 'period_sum' then max(targets.annual_target) * sum(profiles.month_share)
            else max(targets.annual_target)
        end as target,
        case
            when max(kpis.target_basis) = 'period_sum' then max(targets.annual_target) * max(profiles.cumulative_share)
            else max(targets.annual_target)
        end as target_ytd,
        max(targets.target_source) as target_source,
        max(profiles.target_profile_source) as target_profile_source
    from targets
    inner join kpis on targets.kpi_code = kpis.kpi_code
    inner join profiles
        on targets.kpi_code = profiles.kpi_code
        and targets.org_unit_id = profiles.org_unit_id
        and targets.financial_year = profiles.financial_year
    group by all
{%- endmacro %}


{#- On an incremental run, the CTEs that find what a report holds that no longer holds true,
    after a ``held`` CTE (the report's rows) and a ``period_targets`` CTE (kpi_code, org_unit_id,
    financial_year, ``period_column``, target, target_source, target_profile_source: every period's
    expected target): ``changed_targets`` (kpi_code, org_unit_id, financial_year) whose target for
    any period, or whose profile, differs, and ``renamed_units`` (org_unit_id) whose name changed.
    Targets are matched by key and equal to a relative 1e-9: cascaded targets are sums of doubles,
    whose last bits move from run to run when nothing changed (see changed_groups_only). A period
    the report does not hold yet (later in the year) counts as changed only for keys it holds. -#}
{% macro report_changes_from_held(period_column) -%}
expected_targets as (
    select
        kpi_code || '|' || org_unit_id || '|' || financial_year || '|' || cast({{ period_column }} as varchar) as target_key,
        kpi_code,
        org_unit_id,
        financial_year,
        target,
        target_source,
        target_profile_source
    from period_targets
    where (kpi_code, org_unit_id, financial_year, {{ period_column }}) in (
        select kpi_code, org_unit_id, financial_year, {{ period_column }} from held
    )
),

held_targets as (
    select distinct
        kpi_code || '|' || org_unit_id || '|' || financial_year || '|' || cast({{ period_column }} as varchar) as target_key,
        kpi_code, org_unit_id, financial_year, target, target_source, target_profile_source
    from held
    where target is not null or target_source is not null
),

changed_targets as (
    {{ keys_that_differ_by_row('expected_targets', 'held_targets', ['kpi_code', 'org_unit_id', 'financial_year'],
        'target_key', ['target', 'target_source', 'target_profile_source'], ['target']) }}
),

renamed_units as (
    select org_unit_id from (
        select distinct org_unit_id, org_unit_name from held
        except
        select org_unit_id, org_unit_name from units
    ) as renamed
)
{%- endmacro %}
