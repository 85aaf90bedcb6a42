"""A small serving database shaped like issue 21's geography interface (marts.dim_org_unit with district
and ward rows, their rows in marts.rpt_kpi_monthly, dim_geography, dim_station_location), for the district
and ward page and the map page without running the pipeline.

ESX has one group and three stations (one without a grid reference), two districts (one real, one
'not allocated') and three wards under the real one: Pitsea with 3 incidents in October (a count the
disclosure rule hides from viewers), Laindon with 12, Vange with none reported.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd

MONTH = dt.date(2026, 10, 1)
SERVICE = "ESX"
DISTRICT = "ESX-LAD-E07000066"
UNALLOCATED_DISTRICT = "ESX-LAD-UNALLOCATED"
WARDS = {"E05004001": "Pitsea", "E05004002": "Laindon", "E05004003": "Vange"}
SMALL_WARD, LARGE_WARD = "ESX-WARD-E05004001", "ESX-WARD-E05004002"
# Tooting fire station's grid reference (LFB's incident record at the station), used for a station point.
STATIONS = [  # station_id, name, easting, northing
    ("S1", "Basildon", 570500.0, 189000.0),
    ("S2", "Tooting", 527797.0, 172580.0),
    ("S3", "Nowhere", None, None),
]

RPT_COLUMNS = [
    "kpi_month_sk", "kpi_code", "org_unit_id", "org_level", "service_id", "priority_id", "org_unit_name",
    "period_month", "financial_year", "financial_quarter", "numerator", "denominator", "value", "value_note",
    "target", "tolerance", "target_source", "rag_status", "variance", "numerator_ytd", "denominator_ytd",
    "value_ytd", "target_ytd", "rag_status_ytd", "value_prior_ytd", "value_same_month_last_year",
    "direction_of_travel", "spc_centre_line", "spc_lower_limit", "spc_upper_limit", "spc_signal",
    "denominator_vintage", "dq_status", "dq_note", "dq_records_affected", "unit", "polarity", "_invocation_id",
]  # fmt: skip


def _unit(org_unit_id, parent, level, name, rank, duty=None):
    return {
        "org_unit_version_sk": f"{org_unit_id}-2020-01-01", "org_unit_id": org_unit_id,
        "parent_org_unit_id": parent, "service_id": SERVICE, "org_level": level, "org_level_rank": rank,
        "org_unit_name": name, "group_id": None, "station_id": None, "watch_name": None, "duty_system": duty,
        "valid_from": dt.date(2020, 1, 1), "valid_to": None, "is_current": True,
        "hierarchy": "geography" if level in ("district", "ward") else "organisation",
    }  # fmt: skip


def _row(unit: str, level: str, name: str, month: dt.date, numerator, **extra) -> dict:
    row = dict.fromkeys(RPT_COLUMNS)
    row.update(
        kpi_month_sk=f"INC_TOTAL|{unit}|{month}", kpi_code="INC_TOTAL", org_unit_id=unit, org_level=level,
        service_id=SERVICE, priority_id="P1", org_unit_name=name, period_month=month, financial_year="2026/27",
        financial_quarter="Q3", numerator=numerator, denominator=None,
        value=numerator, unit="count", polarity="down",
    )  # fmt: skip
    row.update(extra)
    return row


def build_serving(data_dir: Path) -> Path:
    """Write serving.duckdb into ``data_dir``; returns its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    units = [
        _unit(SERVICE, None, "service", "Essex County Fire and Rescue Service", 4),
        _unit("ESX-G1", SERVICE, "group", "South", 3),
        _unit(DISTRICT, SERVICE, "district", "Basildon", 3),
        _unit(UNALLOCATED_DISTRICT, SERVICE, "district", "Not allocated to a ward", 3),
        _unit("ESX-WARD-UNALLOCATED", UNALLOCATED_DISTRICT, "ward", "Not allocated to a ward", 2),
    ]
    units += [_unit(f"ESX-{sid}", "ESX-G1", "station", name, 2, "wholetime") for sid, name, _, _ in STATIONS]
    units += [_unit(f"ESX-WARD-{code}", DISTRICT, "ward", name, 2) for code, name in WARDS.items()]

    months = [dt.date(2025, 10, 1) + pd.DateOffset(months=k) for k in range(13)]
    months = [m.date() for m in months]
    rows = []
    for k, month in enumerate(months):
        rows.append(_row(SERVICE, "service", "Essex County Fire and Rescue Service", month, 40.0 + k, target=45.0,
                         rag_status="green"))
        rows.append(_row(DISTRICT, "district", "Basildon", month, 30.0 + k, target=28.0, rag_status="red",
                         value_ytd=150.0, target_ytd=140.0, rag_status_ytd="amber", direction_of_travel="worsening"))
        rows.append(_row(UNALLOCATED_DISTRICT, "district", "Not allocated to a ward", month, 10.0))
        rows.append(_row("ESX-WARD-UNALLOCATED", "ward", "Not allocated to a ward", month, 10.0))
        rows.append(_row(SMALL_WARD, "ward", "Pitsea", month, 3.0, value_ytd=20.0, spc_signal="none"))
        rows.append(_row(LARGE_WARD, "ward", "Laindon", month, 12.0 + (k == 12) * 9, value_ytd=70.0,
                         spc_centre_line=12.5, spc_lower_limit=2.0, spc_upper_limit=20.0,
                         spc_signal="above_upper_limit" if k == 12 else "none"))
    rpt = pd.DataFrame(rows, columns=RPT_COLUMNS)
    numbers = [c for c in RPT_COLUMNS if c.startswith(("numerator", "denominator", "value", "target", "spc_"))
               and c not in ("value_note", "target_source", "spc_signal")] + ["tolerance", "variance"]
    rpt[numbers] = rpt[numbers].astype("float64")
    text = [c for c in RPT_COLUMNS if c not in numbers and c != "period_month"]
    rpt[text] = rpt[text].astype("string")
    kpis = pd.DataFrame([{
        "kpi_code": "INC_TOTAL", "kpi_name": "Total incidents", "definition": "Incidents attended.",
        "scope": "All incidents", "numerator_definition": "incidents", "denominator_definition": None,
        "multiplier": 1.0, "tolerance_pct": 5.0, "owner_role": "Head of Response", "decimals": 0,
        "display_order": 1, "is_small_count_spc": True, "frequency": "monthly", "priority_id": "P1",
        "source_systems": "irs", "unit": "count", "polarity": "down", "reported_by_place": True,
    }])  # fmt: skip
    geography = pd.DataFrame(
        [{"ward_sk": f"ESX-{c}", "ward_code": c, "service_id": SERVICE, "ward_name": n} for c, n in WARDS.items()]
    )
    locations = pd.DataFrame([
        {"station_version_sk": f"ESX-{sid}-2020-01-01", "station_sk": f"ESX-{sid}", "service_id": SERVICE,
         "station_id": sid, "station_name": name, "easting": e, "northing": n,
         "valid_from": dt.date(2020, 1, 1), "valid_to": None}
        for sid, name, e, n in STATIONS
    ])  # fmt: skip
    path = data_dir / "serving.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute("create schema meta")
        for name, frame in {
            "dim_org_unit": pd.DataFrame(units), "rpt_kpi_monthly": rpt, "dim_kpi": kpis,
            "dim_geography": geography, "dim_station_location": locations,
            "dim_priority": pd.DataFrame([{"priority_id": "P1", "priority_name": "Response"}]),
        }.items():  # fmt: skip
            con.register("frame", frame)
            con.execute(f"create table marts.{name} as select * from frame")
            con.unregister("frame")
        con.execute("alter table marts.rpt_kpi_monthly alter period_month type date")
        for table, column, kind in [
            ("dim_org_unit", "valid_to", "date"), ("dim_station_location", "valid_to", "date"),
            ("dim_org_unit", "group_id", "varchar"), ("dim_org_unit", "station_id", "varchar"),
            ("dim_org_unit", "watch_name", "varchar"), ("dim_org_unit", "parent_org_unit_id", "varchar"),
            ("dim_org_unit", "duty_system", "varchar"), ("dim_kpi", "denominator_definition", "varchar"),
        ]:  # fmt: skip
            con.execute(f"alter table marts.{table} alter {column} type {kind}")
        con.execute(
            "create table meta.publish_info as select 'run-1' as run_id, date '2026-11-01' as as_of, "
            "timestamp '2026-11-02 06:00:00' as published_at, 6 as tables_published"
        )
    finally:
        con.close()
    return path


def write_boundaries(path: Path, codes=tuple(WARDS), property_name: str = "ward_code") -> Path:
    """Square ward boundaries around Basildon, one per code, in WGS84."""
    features = []
    for k, code in enumerate(codes):
        lon, lat = 0.45 + 0.02 * k, 51.57
        ring = [[lon, lat], [lon + 0.02, lat], [lon + 0.02, lat + 0.02], [lon, lat + 0.02], [lon, lat]]
        features.append({
            "type": "Feature",
            "properties": {property_name: code, "ward_name": WARDS.get(code, code)},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        })  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path
