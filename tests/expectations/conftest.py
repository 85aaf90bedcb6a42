"""Small warehouses for the data-quality tests: a few raw batches and a few mart rows, built per test."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

os.environ["GX_ANALYTICS_ENABLED"] = "false"  # before GX is imported anywhere

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from orchestration.ingestion.contracts import entity  # noqa: E402
from orchestration.ingestion.engine import ensure_raw_table, record_deliveries  # noqa: E402
from orchestration.warehouse import ensure_audit_schema  # noqa: E402

AS_OF = dt.date(2026, 11, 1)  # reporting cut-off: October 2026 is the report month
LOADED_AT = dt.datetime(2026, 11, 2, 6, 0)
MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10")


class RawWarehouse:
    """A DuckDB file with contract raw tables; ``land`` inserts one batch with lineage columns."""

    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path))
        ensure_audit_schema(self.con)
        self.next_batch = 1

    def land(
        self,
        table: str,
        rows: list[dict],
        *,
        service: str | None = "ESX",
        period: str = "2026-10-31",
        revision: int = 1,
        loaded_at: dt.datetime = LOADED_AT,
    ) -> int:
        e = entity(table)
        ensure_raw_table(self.con, e)
        batch = self.next_batch
        self.next_batch += 1
        frame = pd.DataFrame(rows)
        frame["service_id"] = service
        frame["_source_file"] = f"{e.system}/{service}/{e.stem}_{period}.{e.extension}"
        frame["_source_row"] = range(2, len(rows) + 2)
        frame["_file_sha256"] = f"sha{batch}"
        frame["_batch_id"] = batch
        frame["_loaded_at"] = loaded_at
        frame["_delivery_key"] = e.stem if e.delivery == "snapshot" else f"{e.stem}_{period}"
        frame["_period"] = period
        frame["_revision"] = revision
        self.con.register("_rows", frame)
        self.con.execute(f"insert into raw.{table} by name select * from _rows")
        record_deliveries(self.con, table, "_rows")
        self.con.unregister("_rows")
        return batch

    def batches(self, table: str) -> list[int]:
        return [r[0] for r in self.con.execute(f"select distinct _batch_id from raw.{table} order by 1").fetchall()]


def incident(n: int, month: str, **overrides) -> dict:
    row = {
        "incident_id": f"INC-{month}-{n}",
        "call_at": pd.Timestamp(f"{month}-{10 + n:02d} 12:00:00"),
        "station_ground": "W1" if n % 2 else "W2",
        "ward_code": "E1",
        "incident_category": "primary_fire",
        "incident_type": "fire",
        "property_category": "dwelling",
        "motive": "accidental",
        "fatalities": 0,
        "appliances_attending": 1,
    }
    row.update(overrides)
    return row


def mobilisation(n: int, month: str, **overrides) -> dict:
    call = pd.Timestamp(f"{month}-{10 + n:02d} 12:00:00")
    row = {
        "mobilisation_id": f"INC-{month}-{n}-1",
        "incident_id": f"INC-{month}-{n}",
        "appliance_id": "A1",
        "station_id": "W1",
        "call_received_at": call,
        "mobilised_at": call + pd.Timedelta(seconds=70),
        "mobile_at": call + pd.Timedelta(seconds=160),
        "in_attendance_at": call + pd.Timedelta(seconds=500),
        "pump_order": 1,
    }
    row.update(overrides)
    return row


def build_clean_raw(wh: RawWarehouse, months: tuple[str, ...] = MONTHS) -> None:
    """Reference data, HR and five months of incidents and mobilisations, all consistent."""
    wh.land("reference__stations", [
        {"station_id": s, "station_name": s, "group_id": "G1", "group_name": "North",
         "duty_system": "wholetime", "valid_from": dt.date(2020, 1, 1)}
        for s in ("W1", "W2")
    ])
    wh.land("reference__wards", [
        {"ward_code": w, "ward_name": w, "lad_code": "L1", "lad_name": "Lad", "station_id": s,
         "population": 1000, "dwellings": 400, "non_domestic_properties": 30, "vintage_year": 2021}
        for w, s in (("E1", "W1"), ("E2", "W2"))
    ])
    wh.land("reference__appliances", [
        {"appliance_id": "A1", "station_id": "W1", "appliance_type": "pump", "duty_system": "wholetime"},
        {"appliance_id": "A2", "station_id": "W2", "appliance_type": "pump", "duty_system": "wholetime"},
    ])
    wh.land("hr__staff", [
        {"staff_key": f"p_{i}", "staff_group": "wholetime", "role": "Firefighter", "is_operational": True,
         "gender": "female", "ethnicity": "white", "station_id": "W1", "watch": "Red", "fte": 1.0,
         "start_date": dt.date(2015, 1, 1)}
        for i in range(3)
    ])
    wh.land("hr__absences", [
        {"absence_id": f"AB{i}", "staff_key": f"p_{i}", "start_date": dt.date(2026, 9, 1),
         "end_date": dt.date(2026, 9, 3), "shifts_lost": 2.0, "reason_category": "musculoskeletal"}
        for i in range(3)
    ])
    for month in months:
        wh.land("irs__incidents", [incident(n, month) for n in range(1, 5)], period=month)
        wh.land("mobilising__mobilisations", [mobilisation(n, month) for n in range(1, 5)], period=month)


@pytest.fixture
def raw_wh(tmp_path: Path) -> RawWarehouse:
    wh = RawWarehouse(tmp_path / "warehouse.duckdb")
    yield wh
    wh.con.close()


@pytest.fixture
def clean_raw(raw_wh: RawWarehouse) -> RawWarehouse:
    build_clean_raw(raw_wh)
    return raw_wh


# ----------------------------------------------------------------------------- marts

KPIS = (
    # kpi_code, unit, polarity, lowest_level_rank, is_count, multiplier
    ("INC", "count", "none", 2, True, 1.0),
    ("PCT", "percent", "up", 2, False, 100.0),
)
STATIONS = {"S-ST1": "S-G1", "S-ST2": "S-G1"}
MART_MONTHS = (dt.date(2026, 9, 1), dt.date(2026, 10, 1))


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """A one-service, one-group, two-station organisation with two KPIs over two months.

    Observations are made at stations; group and service rows add them up, as the marts do.
    """
    for schema in ("marts", "intermediate"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(
        "create table marts.dim_kpi (kpi_code varchar, unit varchar, polarity varchar, lowest_level_rank integer, "
        "time_aggregation varchar, frequency varchar)"
    )
    for code, unit, polarity, rank, _, _ in KPIS:
        con.execute("insert into marts.dim_kpi values (?, ?, ?, ?, 'sum', 'monthly')", [code, unit, polarity, rank])
    units = [("S", "service", 4, None), ("S-G1", "group", 3, "S")] + [(s, "station", 2, g) for s, g in STATIONS.items()]
    con.execute(
        "create table marts.dim_org_unit (org_unit_id varchar, org_level varchar, org_level_rank integer, "
        "service_id varchar, parent_org_unit_id varchar)"
    )
    for uid, level, rank, parent in units:
        con.execute("insert into marts.dim_org_unit values (?, ?, ?, 'S', ?)", [uid, level, rank, parent])
    ancestry = []
    for month in MART_MONTHS:
        ancestry += [(month, "S", "S", "service"), (month, "S-G1", "S-G1", "group"), (month, "S-G1", "S", "service")]
        for station, group in STATIONS.items():
            ancestry += [(month, station, station, "station"), (month, station, group, "group"),
                         (month, station, "S", "service")]
    con.execute(
        "create table intermediate.int_org_unit_ancestry_monthly (period_month date, org_unit_id varchar, "
        "ancestor_org_unit_id varchar, ancestor_level varchar)"
    )
    con.executemany("insert into intermediate.int_org_unit_ancestry_monthly values (?, ?, ?, ?)", ancestry)

    observations = []
    for month in MART_MONTHS:
        for i, station in enumerate(STATIONS):
            observations.append(("INC", station, month, 10.0 + i, None))
            observations.append(("PCT", station, month, 6.0 + i, 10.0))
    obs = pd.DataFrame(observations, columns=["kpi_code", "org_unit_id", "period_month", "numerator", "denominator"])
    obs["service_id"] = "S"
    con.register("_obs", obs)
    con.execute("create table marts.fct_kpi_observations as select * from _obs")
    con.unregister("_obs")

    levels = {"S": "service", "S-G1": "group", **{s: "station" for s in STATIONS}}
    rows = []
    for (code, month), group in obs.groupby(["kpi_code", "period_month"]):
        unit, polarity, _, is_count, multiplier = next(k[1:] for k in KPIS if k[0] == code)
        for uid, level in levels.items():
            members = group if level != "station" else group[group.org_unit_id == uid]
            num = float(members.numerator.sum())
            den = None if is_count else float(members.denominator.sum())
            value = num if is_count else num / den * multiplier
            target = 55.0 if (code == "PCT" and level == "service") else None
            rows.append({
                "kpi_month_sk": f"{code}|{uid}|{month}", "kpi_code": code, "org_unit_id": uid, "org_level": level,
                "service_id": "S", "period_month": month, "financial_year": "2026-27", "unit": unit,
                "numerator": num, "denominator": den, "value": value, "value_ytd": value, "target": target,
            })
    rpt = pd.DataFrame(rows)
    con.register("_rpt", rpt)
    con.execute("create table marts.rpt_kpi_monthly as select * from _rpt")
    con.unregister("_rpt")


@pytest.fixture
def marts_con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "kpi_marts_test.duckdb"))
    build_marts(con)
    yield con
    con.close()


@pytest.fixture
def rows():
    """Row factories for the raw tables (``rows.incident(n, month, **overrides)``…) and
    ``rows.build(wh, months)``, the clean reference, HR, incident and mobilisation batches."""

    class Rows:
        incident = staticmethod(incident)
        mobilisation = staticmethod(mobilisation)
        build = staticmethod(build_clean_raw)
        months = MONTHS
        as_of = AS_OF

    return Rows
