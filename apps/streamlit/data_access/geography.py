"""The geography reports: a KPI by local authority district and by ward (the second reporting hierarchy,
service → district → ward), a ward's trend, and what the map draws (stations where they stand, the
service's ward boundaries, each ward's value).

District and ward rows are the mart's own (marts.rpt_kpi_monthly, org_level 'district' and 'ward');
ward figures go through the viewer's disclosure rule in scope.py like every other figure.
"""

from __future__ import annotations

import pandas as pd

from data_access import scope
from data_access.connection import query, table_exists
from data_access.report_sql import KPI_COLUMNS, monthly_rows
from orchestration.coordinates import bng_to_wgs84
from orchestration.settings import Settings
from orchestration.ward_boundaries import WardBoundaries, read_ward_boundaries

DISTRICT, WARD = "district", "ward"
WARD_INFIX = "-WARD-"  # a ward's org_unit_id is <service_id>-WARD-<ward_code>
UNALLOCATED = "UNALLOCATED"
STATION_COLUMNS = ["org_unit_id", "station_id", "station_name", "easting", "northing", "duty_system", "group_name"]

# Geography units carry their validity like the organisation's; a row without a start is always valid.
VALID = "coalesce(u.valid_from, date '0001-01-01') <= $month and (u.valid_to is null or u.valid_to >= $month)"

_ROW_COLUMNS = """
    r.kpi_code, r.org_unit_id, r.org_unit_name, r.org_level, r.service_id, r.period_month,
    r.numerator, r.denominator, r.value, r.value_note, r.target, r.rag_status, r.variance,
    r.value_ytd, r.target_ytd, r.rag_status_ytd, r.value_prior_ytd, r.value_same_month_last_year,
    r.direction_of_travel, r.spc_centre_line, r.spc_lower_limit, r.spc_upper_limit, r.spc_signal,
    r.unit, r.polarity
"""


def _read(capability_unit: str, month) -> None:
    """Reports readers, and auditors (who trace a figure to its records), within their scope."""
    scope.require_unit(capability_unit, month, scope.REPORTS, scope.RECORDS)


def place_kpis(service_id: str) -> pd.DataFrame:
    """The KPIs reported by district and ward for a service (the catalogue's KPIs about places)."""
    _read(service_id, None)
    return query(
        """
        select distinct k.kpi_code, k.kpi_name, k.display_order
        from marts.rpt_kpi_monthly as r
        inner join marts.dim_kpi as k using (kpi_code)
        where r.service_id = $service and r.org_level = 'district'
        order by k.display_order
        """,
        {"service": service_id},
    )


def district_kpis(service_id: str, month, kpi_code: str) -> pd.DataFrame:
    """One KPI for every district of a service in a month: value, target, YTD, direction, RAG."""
    _read(service_id, month)
    df = query(
        f"""
        with rows as ({monthly_rows("service_id = $service and period_month = $month and kpi_code = $kpi")})
        select {_ROW_COLUMNS}, {KPI_COLUMNS}
        from rows as r
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        where r.org_level = '{DISTRICT}'
        order by r.org_unit_id like '%-{UNALLOCATED}', r.org_unit_name
        """,
        {"service": service_id, "month": month, "kpi": kpi_code},
    )
    return scope.suppress_for_viewer(scope.in_scope(df, month))


def ward_kpis(district_id: str, month, kpi_code: str) -> pd.DataFrame:
    """One KPI for every ward of a district in a month: value, YTD and the SPC signal (no RAG at ward level)."""
    _read(district_id, month)
    df = query(
        f"""
        with wards as (
            select distinct u.org_unit_id from marts.dim_org_unit as u
            where u.parent_org_unit_id = $district and u.org_level = '{WARD}' and {VALID}
        ),
        rows as ({monthly_rows("period_month = $month and kpi_code = $kpi")})
        select {_ROW_COLUMNS}, {KPI_COLUMNS}
        from rows as r
        inner join wards using (org_unit_id)
        inner join marts.dim_kpi as k using (kpi_code)
        left join marts.dim_priority as p on p.priority_id = r.priority_id
        order by r.org_unit_id like '%-{UNALLOCATED}', r.org_unit_name
        """,
        {"district": district_id, "month": month, "kpi": kpi_code},
    )
    return scope.suppress_for_viewer(scope.in_scope(df, month))


def ward_trend(ward_id: str, kpi_code: str, month, months_back: int = 24) -> pd.DataFrame:
    """One KPI for one ward month by month up to ``month``, with the mart's SPC limits."""
    _read(ward_id, month)
    return scope.suppress_for_viewer(query(
        f"""
        select {_ROW_COLUMNS}
        from ({monthly_rows(
            "org_unit_id = $unit and kpi_code = $kpi and period_month between "
            "cast($month as date) - to_months($back) and cast($month as date)"
        )}) as r
        order by r.period_month
        """,
        {"unit": ward_id, "kpi": kpi_code, "month": month, "back": months_back},
    ))


def ward_values(service_id: str, month, kpi_code: str) -> pd.DataFrame:
    """One KPI for every ward of a service in a month, with the ward's code (to match its boundary)."""
    _read(service_id, month)
    df = query(
        f"""
        with rows as ({monthly_rows("service_id = $service and period_month = $month and kpi_code = $kpi")})
        select {_ROW_COLUMNS}, k.kpi_name, k.decimals,
               substr(r.org_unit_id, length(r.service_id) + {len(WARD_INFIX) + 1}) as ward_code
        from rows as r
        inner join marts.dim_kpi as k using (kpi_code)
        where r.org_level = '{WARD}' and not r.org_unit_id like '%{WARD_INFIX}{UNALLOCATED}'
        order by r.org_unit_name
        """,
        {"service": service_id, "month": month, "kpi": kpi_code},
    )
    return scope.suppress_for_viewer(scope.in_scope(df, month))


def ward_codes(service_id: str) -> frozenset[str]:
    """The codes of the service's current wards (what a boundary feature must name): its ward units, or
    in a publish made before the geography hierarchy, every ward of its reference data."""
    _read(service_id, None)
    df = query(
        f"""
        select distinct substr(org_unit_id, length(service_id) + {len(WARD_INFIX) + 1}) as ward_code
        from marts.dim_org_unit
        where service_id = $service and org_level = '{WARD}'
            and org_unit_id <> service_id || '{WARD_INFIX}{UNALLOCATED}'
        """,
        {"service": service_id},
    )
    if df.empty:
        df = query("select distinct ward_code from marts.dim_geography where service_id = ?", [service_id])
    return frozenset(df.ward_code.astype(str))


def station_locations(service_id: str, month) -> pd.DataFrame:
    """The service's stations as they stood in ``month`` with latitude and longitude (WGS84), converted
    here once from the reference data's British National Grid reference; stations without one are left out."""
    _read(service_id, month)
    if not table_exists("marts", "dim_station_location"):  # a publish made before the map existed
        return pd.DataFrame(columns=[*STATION_COLUMNS, "lat", "lon"])
    df = query(
        """
        select l.station_sk as org_unit_id, l.station_id, l.station_name, l.easting, l.northing,
               u.duty_system, g.org_unit_name as group_name
        from marts.dim_station_location as l
        left join marts.dim_org_unit as u
            on u.org_unit_id = l.station_sk and u.valid_from = l.valid_from
        left join marts.dim_org_unit as g
            on g.org_unit_id = u.parent_org_unit_id and g.valid_from <= $month
            and (g.valid_to is null or g.valid_to >= $month)
        where l.service_id = $service and l.valid_from <= $month and (l.valid_to is null or l.valid_to >= $month)
        order by l.station_name
        """,
        {"service": service_id, "month": month},
    )
    df = df.drop_duplicates("org_unit_id").reset_index(drop=True)
    df["lat"], df["lon"] = bng_to_wgs84(df.easting.tolist(), df.northing.tolist())
    return df[df.lat.notna()].reset_index(drop=True)


def map_settings(settings: Settings | None = None) -> Settings:
    return settings or Settings.from_env()


def ward_boundaries(service_id: str, settings: Settings | None = None) -> WardBoundaries:
    """The service's ward boundaries file, read and checked against its wards; never raises on bad input."""
    settings = map_settings(settings)
    return read_ward_boundaries(settings.ward_boundaries_file, ward_codes(service_id), settings.ward_code_property)


def tile_url(settings: Settings | None = None) -> str | None:
    return map_settings(settings).map_tile_url
