"""SQL pieces the report queries share: the report rows, the hierarchy as it stood in a month, the
KPI catalogue's columns.

The marts hold every KPI figure (value, target, RAG, variance, YTD, direction, SPC); the queries
built from these pieces only select, join and order them for display.
"""

from __future__ import annotations

# One row per key: dbt's unique tests on kpi_month_sk / kpi_quarter_sk fail the build (and so
# the publish) if a report row is ever duplicated.
# A viewer reads each month as the performance team approved it, never a draft: its report rows come
# from the approvals file (data_access/approvals.py), which the connection lays out under this name
# with the mart's own columns and types.
APPROVED_MONTHLY = "approved_kpi_monthly"


def monthly_source() -> str:
    from data_access import scope  # scope reads VALID_AT from here

    return APPROVED_MONTHLY if scope.reads_approved_only() else "marts.rpt_kpi_monthly"


def monthly_rows(where: str) -> str:
    return f"select * from {monthly_source()} where {where}"


def quarterly_rows(where: str) -> str:
    return f"select * from marts.rpt_kpi_quarterly where {where}"


# A unit belongs to the hierarchy as it stood in the reported month (stations move group).
VALID_AT = "{u}.valid_from <= {m} and ({u}.valid_to is null or {u}.valid_to >= {m})"

# The organisation hierarchy (service, group, station, watch), not the geography beside it
# (district, ward: hierarchy 'geography' in dim_org_unit). Stated by level, so a publish made
# before the hierarchy column existed reads the same.
ORGANISATION = "{u}.org_level not in ('district', 'ward')"


KPI_COLUMNS = """
    k.kpi_name, k.definition, k.scope, k.numerator_definition, k.denominator_definition, k.multiplier,
    k.tolerance_pct, k.owner_role, k.decimals, k.display_order, k.is_small_count_spc,
    k.frequency, p.priority_name
"""


DESCENDANTS = f"""
    with recursive tree as (
        select org_unit_id, org_level from marts.dim_org_unit as u
        where org_unit_id = $unit and {VALID_AT.format(u="u", m="$month")}
        union all
        select u.org_unit_id, u.org_level from marts.dim_org_unit as u
        inner join tree on u.parent_org_unit_id = tree.org_unit_id
        where {VALID_AT.format(u="u", m="$month")}
            -- Below a service: its organisation only (its districts are a second view of the same
            -- records); below a district: its wards.
            and (tree.org_level <> 'service' or {ORGANISATION.format(u="u")})
    )
"""
