"""`sources status`: a service's readiness, read from a tiny warehouse built here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration import cli
from orchestration.ingestion.contracts import ENTITIES
from orchestration.sources_status import (
    Input,
    parse_requires,
    read_catalogue,
    service_readiness,
)
from orchestration.warehouse import ensure_audit_schema

CATALOGUE = [
    ("INC_TOTAL", "irs.incidents"),
    ("PRI_FIRES_10K", "irs.incidents;reference.wards.population"),
    ("ADF_CONFINED_PCT", "irs.incidents.is_confined_to_room"),
    ("RESP_STD_MET_PCT", "mobilising.mobilisations|irs.incidents.first_pump_attendance_seconds"),
]
_NOW = dt.datetime(2026, 11, 1, 9, 0)


def _deliver(con, batch_id, system, entity, service_id, period, rows, revision=0, key=None):
    con.execute(
        "insert into audit.ingestion_log (batch_id, system, entity, raw_table, service_id, file_name, file_sha256, "
        "period, revision, rows_received, rows_loaded, rows_quarantined, status, started_at, finished_at) "
        "values (?, ?, ?, ?, ?, ?, 'sha', ?, ?, ?, ?, 0, 'loaded', ?, ?)",
        [batch_id, system, entity, f"{system}__{entity}", service_id, f"{entity}_{period}_r{revision}.csv",
         period, revision, rows, rows, _NOW, _NOW],
    )
    con.execute(
        "insert into audit.raw_deliveries values (?, ?, ?, ?, ?, ?, ?)",
        [f"{system}__{entity}", service_id, key or period, period, revision, batch_id, rows > 0],
    )


def build_warehouse(path: Path) -> Path:
    """ESX records everything; LON's incidents carry no confinement and no attendance times, and
    it has no wards and no mobilising. LON's May incidents were re-delivered (revision 1)."""
    with duckdb.connect(str(path)) as con:
        ensure_audit_schema(con)
        con.execute("create schema if not exists raw_current")
        con.execute("create schema if not exists raw")
        con.execute(
            "create table raw.irs__incidents as select * from (values "
            "('ESX', 'I1', true, 300.0), ('ESX', 'I2', null, null), "
            "('LON', 'L1', null, null), ('LON', 'L2', null, null)) "
            "as t(service_id, incident_id, is_confined_to_room, first_pump_attendance_seconds)"
        )
        con.execute(
            "create table raw.reference__wards as select * from (values ('ESX', 'W1', 1000)) "
            "as t(service_id, ward_code, population)"
        )
        for table in ("irs__incidents", "reference__wards"):  # views over raw, as ingestion makes them
            con.execute(f"create view raw_current.{table} as select * from raw.{table}")
        for service in ("ESX", "LON"):
            _deliver(con, 1 if service == "ESX" else 10, "irs", "incidents", service, "2026-05", 2)
            _deliver(con, 2 if service == "ESX" else 11, "reference", "stations", service, "2026-05-31", 3, key="snap")
        _deliver(con, 12, "irs", "incidents", "LON", "2026-05", 5, revision=1)
        _deliver(con, 13, "irs", "incidents", "LON", "2026-06", 4)
        _deliver(con, 3, "reference", "wards", "ESX", "2026-05-31", 1, key="snap")
        _deliver(con, 4, "mobilising", "mobilisations", "ESX", "2026-05", 7)
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("status") / "warehouse.duckdb")


def _readiness(path: Path, service: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return service_readiness(con, service, CATALOGUE)


def test_a_service_that_records_everything_lacks_nothing(warehouse):
    r = _readiness(warehouse, "ESX")
    assert [(d.source, d.files, d.rows, d.last_period) for d in r.deliveries] == [
        ("irs.incidents", 1, 2, "2026-05"),
        ("mobilising.mobilisations", 1, 7, "2026-05"),
        ("reference.stations", 1, 3, "2026-05-31"),
        ("reference.wards", 1, 1, "2026-05-31"),
    ]
    assert r.unrecorded == [] and r.kpi_gaps == {} and r.columns_checked
    assert r.missing_reference == ["appliances"]


def test_unrecorded_columns_and_missing_reference_name_the_kpis_they_cost(warehouse):
    r = _readiness(warehouse, "LON")
    # The May re-delivery replaces the first: current deliveries only.
    assert [(d.source, d.files, d.rows, d.last_period) for d in r.deliveries] == [
        ("irs.incidents", 2, 9, "2026-06"),
        ("reference.stations", 1, 3, "2026-05-31"),
    ]
    assert r.unrecorded == ["irs.incidents.first_pump_attendance_seconds", "irs.incidents.is_confined_to_room"]
    assert r.not_delivered == ["mobilising.mobilisations"]
    assert r.missing_reference[0].startswith("wards with population")
    assert r.kpi_gaps == {
        "PRI_FIRES_10K": ["reference.wards not delivered"],
        "ADF_CONFINED_PCT": ["irs.incidents.is_confined_to_room not recorded"],
        "RESP_STD_MET_PCT": [
            "mobilising.mobilisations not delivered and irs.incidents.first_pump_attendance_seconds not recorded"
        ],
    }


def test_cli_prints_the_status_from_the_warehouse_when_serving_is_absent(tmp_path, monkeypatch, capsys):
    build_warehouse(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path))
    assert cli.main(["sources", "status", "--service", "LON"]) == 0
    out = capsys.readouterr().out
    assert "Service LON (read from warehouse.duckdb)" in out
    assert "  irs.incidents.is_confined_to_room\n" in out
    assert "ADF_CONFINED_PCT: irs.incidents.is_confined_to_room not recorded" in out


def test_cli_reads_serving_with_the_warehouse_attached_for_columns(tmp_path, monkeypatch, capsys):
    build_warehouse(tmp_path / "warehouse.duckdb")
    # serving holds the audit tables but not raw_current.
    with duckdb.connect(str(tmp_path / "serving.duckdb")) as con:
        con.execute(f"attach '{tmp_path / 'warehouse.duckdb'}' as wh (read_only)")
        con.execute("create schema audit")
        for table in ("ingestion_log", "raw_deliveries"):
            con.execute(f"create table audit.{table} as select * from wh.audit.{table}")
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path))
    assert cli.main(["sources", "status", "--service", "LON"]) == 0
    out = capsys.readouterr().out
    assert "read from serving.duckdb and warehouse.duckdb" in out
    assert "ADF_CONFINED_PCT: irs.incidents.is_confined_to_room not recorded" in out


def test_cli_says_clearly_when_there_is_no_warehouse(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path / "nothing"))
    assert cli.main(["sources", "status", "--service", "ESX"]) == 2
    out = capsys.readouterr().out
    assert "error: no warehouse yet: neither" in out and "serving.duckdb" in out


def test_requires_parses_items_and_alternatives_and_refuses_malformed_ones():
    assert parse_requires("irs.incidents;mobilising.mobilisations|irs.incidents.x") == [
        (Input("irs", "incidents"),),
        (Input("mobilising", "mobilisations"), Input("irs", "incidents", "x")),
    ]
    with pytest.raises(ValueError, match="requires item 'irs': expected system.entity"):
        parse_requires("irs")


def test_every_catalogue_requirement_names_a_contract_entity_and_column():
    entities = {(e.system, e.entity): {c.name for c in e.loaded_columns} for e in ENTITIES}
    catalogue = read_catalogue()
    assert len(catalogue) >= 30
    for code, text in catalogue:
        for item in parse_requires(text):
            for alt in item:
                assert (alt.system, alt.entity) in entities, f"{code}: {alt}"
                assert alt.column is None or alt.column in entities[(alt.system, alt.entity)], f"{code}: {alt}"
