"""The ingestion engine on small hand-made extracts: each rule, reconciliation, idempotency,
re-delivery and personal data."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.deliveries import accept
from orchestration.ingestion import readers
from orchestration.ingestion.contracts import entity
from orchestration.ingestion.engine import (
    ensure_raw_table,
    ingest_entity,
    ingest_real_data,
    ingest_system,
    load_pseudonymiser,
)
from orchestration.warehouse import connect, ensure_audit_schema
from tests.orchestration.small_extracts import INC_HEADER, STATIONS, WARDS, inc, land


@pytest.fixture
def warehouse(settings):
    with connect(settings.warehouse_path) as con:
        yield con


@pytest.fixture
def landing(settings) -> Path:
    root = settings.landing_dir
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    return root


def load_reference(con, landing: Path, key) -> None:
    ingest_system(con, "reference", landing, key).raise_for_failures()


def quarantine(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("select row_number, reason from audit.quarantine order by row_number").fetchall())


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_each_row_rule_quarantines_with_a_reason(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(
        landing,
        "irs/T1/incidents_2024-03.csv",
        INC_HEADER
        + inc("A1")  # line 2: good
        + inc("A2", station="ZZ99")  # 3 unknown station
        + inc("A3", ward="E05999999")  # 4 unknown ward
        + inc("A4", serious="two")  # 5 text in numeric
        + inc("A5", when="2031-03-05 10:00:00")  # 6 future (and outside period)
        + inc("A6", category="")  # 7 missing mandatory
        + inc("A1")  # 8 duplicate of line 2
        + "A7,2024-03-05 10:00:00,S01\n"  # 9 malformed
        + inc("A8", when="2024-04-01 00:00:01")  # 10 outside the file's month
        + inc("A9", category="explosion"),  # 11 not an allowed code
    )
    report = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (outcome,) = report.outcomes
    assert (outcome.rows_received, outcome.rows_loaded, outcome.rows_quarantined) == (10, 1, 9)
    reasons = quarantine(warehouse)
    assert "station_ground: code 'ZZ99' not in stations" in reasons[3]
    assert "ward_code: code 'E05999999' not in wards" in reasons[4]
    assert "casualties_hospital_serious: 'two' is not a valid int" in reasons[5]
    assert "in the future" in reasons[6]
    assert "incident_category: required value missing" in reasons[7]
    assert "duplicate key A1 (first at row 2)" in reasons[8]
    assert "malformed row: expected 19 fields, found 3" in reasons[9]
    assert "outside the file's period 2024-03" in reasons[10]
    assert "'explosion' is not an allowed code" in reasons[11]
    loaded = warehouse.execute(
        "select incident_id, service_id, _source_file, _source_row, _file_sha256 is not null, _batch_id "
        "from raw.irs__incidents"
    ).fetchall()
    assert loaded == [("A1", "T1", "irs/T1/incidents_2024-03.csv", 2, True, 3)]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_an_incident_without_station_ground_is_loaded_for_its_service(warehouse, landing, settings):
    """No station ground is not a fault: the incident counts in its service's figures only."""
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("B1", station="") + inc("B2"))
    (outcome,) = ingest_entity(warehouse, entity("irs__incidents"), landing, key).outcomes
    assert (outcome.rows_received, outcome.rows_loaded, outcome.rows_quarantined) == (2, 2, 0)
    assert warehouse.execute(
        "select incident_id, service_id, station_ground from raw.irs__incidents order by incident_id"
    ).fetchall() == [("B1", "T1", None), ("B2", "T1", "S01")]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_mobilising_sequence_and_bounds(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)

    def mob(i, call, mobilised, mobile, attend):
        return (
            f'{{"mobilisation_id":"{i}","incident_id":"A1","appliance_id":"P1","station_id":"S01",'
            f'"call_received_at":"{call}","mobilised_at":"{mobilised}","mobile_at":"{mobile}",'
            f'"in_attendance_at":"{attend}","pump_order":1}}\n'
        )

    land(
        landing,
        "mobilising/T1/mobilisations_2024-03.jsonl",
        mob("M1", "2024-03-05T10:00:00", "2024-03-05T10:01:00", "2024-03-05T10:02:00", "2024-03-05T10:08:00")
        + mob("M2", "2024-03-05T10:00:00", "2024-03-05T10:02:00", "2024-03-05T10:01:00", "2024-03-05T10:08:00")
        + mob("M3", "2024-03-05T10:00:00", "2024-03-05T10:01:00", "2024-03-05T10:02:00", "2024-03-05T12:08:00")
        + "{not json\n",
    )
    report = ingest_entity(warehouse, entity("mobilising__mobilisations"), landing, key)
    assert [(o.rows_received, o.rows_loaded, o.rows_quarantined) for o in report.outcomes] == [(4, 1, 3)]
    reasons = quarantine(warehouse)
    assert reasons[2] == "timestamps out of sequence: mobile_at before mobilised_at"
    assert "elapsed call_received_at to in_attendance_at of 7680 s outside 0..3600 s" in reasons[3]
    assert reasons[4].startswith("malformed row: not valid JSON")


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_schema_drift_rejects_the_file_naming_columns(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    drifted = INC_HEADER.replace("ward_code", "ward").replace(",rescues", "")
    land(
        landing,
        "irs/T1/incidents_2024-03.csv",
        drifted + "A1,2024-03-05 10:00:00,S01,W1,primary_fire,fire,dwelling,House,accidental,Y,N,0,0,0,0,0,2,\n",
    )
    report = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (outcome,) = report.failures
    assert "missing: ward_code, rescues" in outcome.message
    assert "unexpected: ward" in outcome.message
    assert "probably renamed: ward_code -> ward" in outcome.message
    with pytest.raises(Exception, match=r"irs/T1/incidents_2024-03.csv: columns do not match"):
        report.raise_for_failures()
    log = warehouse.execute(
        "select rows_received, rows_loaded, rows_quarantined, status from audit.ingestion_log "
        "where raw_table='irs__incidents'"
    ).fetchall()
    assert log == [(1, 0, 1, "refused")]
    # Still failing on the next run, without logging the same file twice.
    again = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    assert (
        again.failures
        and warehouse.execute("select count(*) from audit.ingestion_log where status='refused'").fetchone()[0] == 1
    )


def test_windows_1252_file_is_decoded_with_a_warning(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    text = STATIONS.replace("Alpha", "Café – £")
    land(landing, "reference/T1/stations_2024-04-30.csv", text, encoding="cp1252")
    ingest_system(warehouse, "reference", landing, key)
    name = warehouse.execute(
        "select station_name from raw_current.reference__stations where station_id='S01'"
    ).fetchone()[0]
    assert name == "Café – £"
    warnings = warehouse.execute(
        "select warnings, encoding from audit.ingestion_log where file_name like '%04-30%'"
    ).fetchone()
    assert "decoded as Windows-1252" in warnings[0] and warnings[1] == "cp1252"


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_idempotent_and_redelivery_supersedes(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2"))
    land(landing, "irs/T1/incidents_2024-04.csv", INC_HEADER + inc("B1", when="2024-04-02 09:00:00"))
    ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    before = warehouse.execute("select count(*) from raw.irs__incidents").fetchone()[0]
    again = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    assert {o.status for o in again.outcomes} == {"skipped"}
    assert warehouse.execute("select count(*) from raw.irs__incidents").fetchone()[0] == before == 3
    # The correction re-delivers March: A2 corrected, A1 withdrawn, A3 added.
    land(landing, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER + inc("A2", serious="1") + inc("A3"))
    ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    current = warehouse.execute(
        "select incident_id, casualties_hospital_serious from raw_current.irs__incidents order by 1"
    ).fetchall()
    assert current == [("A2", 1), ("A3", 0), ("B1", 0)]
    assert warehouse.execute("select count(*) from raw.irs__incidents").fetchone()[0] == 5  # history kept


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_duplicate_across_months_is_quarantined(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1"))
    land(landing, "irs/T1/incidents_2024-04.csv", INC_HEADER + inc("A1", when="2024-04-02 09:00:00"))
    ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (reason,) = quarantine(warehouse).values()
    assert reason == "duplicate key A1 already loaded from irs/T1/incidents_2024-03.csv"


def test_staff_names_never_reach_the_warehouse(warehouse, settings):
    from openpyxl import Workbook

    key = load_pseudonymiser(settings.secrets_dir)
    wb = Workbook()
    ws = wb.active
    ws.title = "Staff"
    staff = entity("hr__staff")
    ws.append([c.name for c in staff.columns])
    ws.append(
        [
            "T100",
            "Zebedee",
            "Quixotic",
            "wholetime",
            "Firefighter",
            "Y",
            "female",
            "white",
            None,
            "Red",
            1,
            "2020-01-01",
            None,
        ]
    )
    ws.append(
        [
            "T101",
            "Ysolde",
            "Marchbanks",
            "wholetime",
            "Firefighter",
            "Y",
            "male",
            "white",
            None,
            "Red",
            "full",
            "2020-01-01",
            None,
        ]
    )
    for sheet, ent in (("Absence", "hr__absences"), ("Cases", "hr__cases")):
        wb.create_sheet(sheet).append([c.name for c in entity(ent).columns])
    path = settings.landing_dir / "hr/T1/hr_extract_2024-03-31.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    report = ingest_system(warehouse, "hr", settings.landing_dir, key)
    assert not report.failures
    columns = [
        r[0]
        for r in warehouse.execute(
            "select column_name from information_schema.columns where table_name='hr__staff'"
        ).fetchall()
    ]
    assert "first_name" not in columns and "staff_number" not in columns and "staff_key" in columns
    warehouse.execute("checkpoint")
    dump = Path(settings.warehouse_path).read_bytes()
    for secret in (b"Zebedee", b"Quixotic", b"Ysolde", b"Marchbanks", b"T100", b"T101"):
        assert secret not in dump
    (raw_text,) = warehouse.execute("select raw_text from audit.quarantine").fetchone()
    assert "[redacted]" in raw_text and "Ysolde" not in raw_text


def test_pseudonyms_are_stable_and_keyed(settings, tmp_path):
    key = load_pseudonymiser(settings.secrets_dir)
    assert key("S", "123") == load_pseudonymiser(settings.secrets_dir)("S", "123")
    assert key("S", "123") != load_pseudonymiser(tmp_path / "other")("S", "123")


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_empty_revision_withdraws_its_month(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    incidents = entity("irs__incidents")
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2"))
    land(landing, "irs/T1/incidents_2024-04.csv", INC_HEADER + inc("B1", when="2024-04-02 09:00:00"))
    ingest_entity(warehouse, incidents, landing, key)
    # A revision with no rows withdraws March once accepted (it is held: it shrinks March by
    # 100 %): none of its rows is current any more, so May's A1 and then June's A2 (in a later
    # run) are no duplicates.
    land(landing, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER)
    report = ingest_entity(warehouse, incidents, landing, key)
    outcomes = {o.file_name: (o.status, o.rows_received, o.rows_loaded) for o in report.outcomes}
    assert outcomes["irs/T1/incidents_2024-03_r2.csv"] == ("held", 0, 0)
    accept(warehouse, "irs/T1/incidents_2024-03_r2.csv", by="test", reason="March withdrawn")
    land(landing, "irs/T1/incidents_2024-05.csv", INC_HEADER + inc("A1", when="2024-05-02 09:00:00"))
    ingest_entity(warehouse, incidents, landing, key)
    land(landing, "irs/T1/incidents_2024-06.csv", INC_HEADER + inc("A2", when="2024-06-02 09:00:00"))
    ingest_entity(warehouse, incidents, landing, key)
    current = warehouse.execute("select incident_id, _period from raw_current.irs__incidents order by 1").fetchall()
    assert current == [("A1", "2024-05"), ("A2", "2024-06"), ("B1", "2024-04")]
    assert warehouse.execute("select count(*) from audit.quarantine").fetchone()[0] == 0


def log_rows(con: duckdb.DuckDBPyConnection, table: str = "irs__incidents") -> list[tuple]:
    return con.execute(
        "select file_name, status, rows_received, rows_loaded, rows_quarantined, message, warnings "
        "from audit.ingestion_log where raw_table = ? order by batch_id",
        [table],
    ).fetchall()


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_rerun_on_the_same_landing_area_skips_every_file(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    land(landing, "reference/T2/stations_2024-03-31.csv", STATIONS)  # a copy of T1's: quarantined
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1"))
    land(landing, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER)
    land(landing, "irs/T2/incidents_2024-03.csv", INC_HEADER + inc("A1"))  # a copy of T1's
    land(landing, "irs/T2/incidents_2024-04.csv", INC_HEADER)
    land(landing, "irs/T2/incidents_2024-05.csv", INC_HEADER.replace("ward_code", "ward"))  # refused

    def counts() -> list[int]:
        return [
            warehouse.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("audit.ingestion_log", "audit.quarantine", "raw.reference__stations", "raw.irs__incidents")
        ]

    first = [*ingest_system(warehouse, "reference", landing, key).outcomes]
    first += ingest_system(warehouse, "irs", landing, key).outcomes
    assert {o.status for o in first} == {"loaded", "held", "refused"}  # held: T1's empty March r2
    before = counts()
    again = [*ingest_system(warehouse, "reference", landing, key).outcomes]
    again += ingest_system(warehouse, "irs", landing, key).outcomes
    assert [(o.file_name, o.status) for o in again] == [
        (o.file_name, "refused" if o.status == "refused" else "skipped") for o in first
    ]
    assert counts() == before


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_header_only_files_identical_to_others_are_each_their_own_delivery(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    for rel in ("irs/T1/incidents_2024-03.csv", "irs/T1/incidents_2024-04.csv", "irs/T2/incidents_2024-03.csv"):
        land(landing, rel, INC_HEADER)
    report = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    assert [(o.status, o.rows_received, o.rows_loaded, o.rows_quarantined) for o in report.outcomes] == [
        ("loaded", 0, 0, 0)
    ] * 3
    log = warehouse.execute(
        "select service_id, file_name, batch_id from audit.ingestion_log where raw_table = 'irs__incidents'"
    ).fetchall()
    assert sorted((s, f) for s, f, _ in log) == [
        ("T1", "irs/T1/incidents_2024-03.csv"),
        ("T1", "irs/T1/incidents_2024-04.csv"),
        ("T2", "irs/T2/incidents_2024-03.csv"),
    ]
    assert len({b for *_, b in log}) == 3


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_empty_revision_identical_to_another_empty_file_withdraws_its_month(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2"))
    land(landing, "irs/T1/incidents_2024-04.csv", INC_HEADER + inc("B1", when="2024-04-02 09:00:00"))
    land(landing, "irs/T2/incidents_2024-03.csv", INC_HEADER)  # T2 had nothing in March
    ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    land(landing, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER)  # byte for byte T2's March
    report = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (r2,) = [o for o in report.outcomes if o.status != "skipped"]
    assert (r2.file_name, r2.status, r2.rows_received, r2.rows_loaded) == (
        "irs/T1/incidents_2024-03_r2.csv",
        "held",  # a withdrawal of a month with rows waits for a person
        0,
        0,
    )
    accept(warehouse, r2.file_name, by="test", reason="March withdrawn")
    current = warehouse.execute("select service_id, incident_id from raw_current.irs__incidents").fetchall()
    assert current == [("T1", "B1")]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_file_copied_into_another_services_folder_is_quarantined_naming_the_original(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    original = land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2") + "A3,broken\n")
    ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (batch,) = warehouse.execute(
        "select batch_id from audit.ingestion_log where file_name = ?", ["irs/T1/incidents_2024-03.csv"]
    ).fetchone()
    land(landing, "irs/T2/incidents_2024-03.csv", original.read_text())
    report = ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (copy,) = [o for o in report.outcomes if o.status != "skipped"]
    reason = f"file identical to irs/T1/incidents_2024-03.csv already loaded (batch {batch})"
    assert vars(copy) == {
        "raw_table": "irs__incidents",
        "file_name": "irs/T2/incidents_2024-03.csv",
        "status": "loaded",
        "rows_received": 3,
        "rows_loaded": 0,
        "rows_quarantined": 3,
        "message": reason,
    }
    assert log_rows(warehouse)[-1] == ("irs/T2/incidents_2024-03.csv", "loaded", 3, 0, 3, reason, "")
    assert warehouse.execute(
        "select service_id, file_name, row_number, reason from audit.quarantine where service_id = 'T2' order by all"
    ).fetchall() == [("T2", "irs/T2/incidents_2024-03.csv", row, reason) for row in (2, 3, 4)]
    assert warehouse.execute("select distinct service_id from raw_current.irs__incidents").fetchall() == [("T1",)]
    assert {o.status for o in ingest_entity(warehouse, entity("irs__incidents"), landing, key).outcomes} == {"skipped"}


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_unchanged_snapshot_under_a_new_date_is_a_new_delivery(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(landing, "reference/T1/stations_2024-04-30.csv", STATIONS)  # nothing changed since March
    report = ingest_entity(warehouse, entity("reference__stations"), landing, key)
    assert [(o.file_name, o.status, o.rows_loaded, o.rows_quarantined) for o in report.outcomes] == [
        ("reference/T1/stations_2024-03-31.csv", "skipped", 0, 0),
        ("reference/T1/stations_2024-04-30.csv", "loaded", 2, 0),
    ]
    assert warehouse.execute("select distinct _period from raw_current.reference__stations").fetchall() == [
        ("2024-04-30",)
    ]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_changed_file_at_the_same_path_is_a_new_delivery_with_a_warning(warehouse, landing, settings):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    first = INC_HEADER + "".join(inc(f"A{i}") for i in range(1, 6))
    land(landing, "irs/T1/incidents_2024-03.csv", first)
    ingest_entity(warehouse, entity("irs__incidents"), landing, key)
    (batch,) = warehouse.execute("select max(batch_id) from audit.ingestion_log").fetchone()
    land(
        landing,
        "irs/T1/incidents_2024-03.csv",
        INC_HEADER + inc("A1", serious="1") + "".join(inc(f"A{i}") for i in range(2, 7)),
    )
    (outcome,) = ingest_entity(warehouse, entity("irs__incidents"), landing, key).outcomes
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 6, 0)
    assert log_rows(warehouse)[-1][-1] == f"file changed since it was loaded in batch {batch}"
    current = "select incident_id, casualties_hospital_serious from raw_current.irs__incidents order by 1"
    assert warehouse.execute(current).fetchall() == [("A1", 1), *((f"A{i}", 0) for i in range(2, 7))]
    # Changed back (5 rows for 6: not shrinking enough to be held): the path's latest content
    # differs again, so the first content is current again.
    land(landing, "irs/T1/incidents_2024-03.csv", first)
    (outcome,) = ingest_entity(warehouse, entity("irs__incidents"), landing, key).outcomes
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 5, 0)
    assert warehouse.execute(current).fetchall() == [(f"A{i}", 0) for i in range(1, 6)]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_real_data_rules_match_the_landed_files(warehouse, settings, tmp_path, monkeypatch):
    from orchestration.ingestion import real_data as rd

    header = "LAD19CD,LAD19NM,FRA19CD,FRA19NM,Fire and Rescue response time (three-year average)\n"
    real = tmp_path / "real"
    land(real, "a/lookup.csv", header + "E1,One,F1,Fire One,1899-12-31T00:08:04Z\n")
    land(real, "b/lookup.csv", header + "E1,One,F1,Fire One,1899-12-31T00:08:04Z\n")  # saved twice by mistake
    sources = [rd.RealSource(f"{f}/lookup.csv", "ons__lad_fra_lookup", rd.ons_lad_fra_lookup, None) for f in "ab"]
    monkeypatch.setattr(rd, "REAL_SOURCES", sources)
    key = load_pseudonymiser(settings.secrets_dir)

    def run() -> list[tuple]:
        report = ingest_real_data(warehouse, real, key)
        return [(o.file_name, o.status, o.rows_received, o.rows_loaded, o.rows_quarantined) for o in report.outcomes]

    assert run() == [("real/a/lookup.csv", "loaded", 1, 1, 0), ("real/b/lookup.csv", "loaded", 1, 0, 1)]
    (batch,) = warehouse.execute(
        "select batch_id from audit.ingestion_log where file_name = 'real/a/lookup.csv'"
    ).fetchone()
    assert log_rows(warehouse, "ons__lad_fra_lookup")[1][-2] == (
        f"file identical to real/a/lookup.csv already loaded (batch {batch})"
    )
    assert run() == [("real/a/lookup.csv", "skipped", 0, 0, 0), ("real/b/lookup.csv", "skipped", 0, 0, 0)]
    # A new edition of one source at the same path: loaded, superseding the old, with a warning.
    land(real, "a/lookup.csv", header + "E1,One,F1,Fire One,1899-12-31T00:07:00Z\n")
    assert run() == [("real/a/lookup.csv", "loaded", 1, 1, 0), ("real/b/lookup.csv", "skipped", 0, 0, 0)]
    assert log_rows(warehouse, "ons__lad_fra_lookup")[-1][-1] == f"file changed since it was loaded in batch {batch}"
    assert warehouse.execute(
        "select response_time_three_year_average from raw_current.ons__lad_fra_lookup"
    ).fetchall() == [("1899-12-31T00:07:00Z",)]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_delivery_list_matches_raw_and_the_log_and_is_rebuilt_for_an_old_warehouse(warehouse, landing, settings):
    """``raw_current`` trusts ``audit.raw_deliveries``: one row per delivery whose rows are in raw,
    and one per empty delivery; copies, refused files and held ones (until accepted) have none. A
    warehouse from before the list existed gets it rebuilt, identical, from raw, the log and the
    decisions on held files."""
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    land(landing, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2"))
    land(landing, "irs/T1/incidents_2024-04.csv", INC_HEADER + inc("B1", when="2024-04-02 09:00:00"))
    land(landing, "irs/T2/incidents_2024-05.csv", INC_HEADER.replace("ward_code", "ward"))  # refused
    ingest_system(warehouse, "irs", landing, key)
    land(landing, "irs/T2/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2"))  # a copy of T1's March
    land(landing, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER + inc("A3"))  # held: -50 %
    land(landing, "irs/T1/incidents_2024-04_r2.csv", INC_HEADER)  # held, then accepted: withdraws April
    ingest_system(warehouse, "irs", landing, key)
    accept(warehouse, "irs/T1/incidents_2024-04_r2.csv", by="test", reason="April withdrawn")

    def listed() -> list[tuple]:
        return warehouse.execute(
            "select d.raw_table, log.file_name, d.service_id, d.delivery_key, d.period, d.revision, d.has_rows "
            "from audit.raw_deliveries as d join audit.ingestion_log as log using (batch_id) order by 1, 2"
        ).fetchall()

    deliveries = listed()
    assert [row[1:] for row in deliveries if row[0] == "irs__incidents"] == [
        ("irs/T1/incidents_2024-03.csv", "T1", "incidents_2024-03", "2024-03", 1, True),
        ("irs/T1/incidents_2024-04.csv", "T1", "incidents_2024-04", "2024-04", 1, True),
        ("irs/T1/incidents_2024-04_r2.csv", "T1", "incidents_2024-04", "2024-04", 2, False),
    ]
    current = warehouse.execute(
        "select service_id, incident_id from raw_current.irs__incidents order by all"
    ).fetchall()
    assert current == [("T1", "A1"), ("T1", "A2")]

    warehouse.execute("delete from audit.raw_deliveries")
    for table in ("reference__stations", "reference__wards", "irs__incidents"):
        ensure_raw_table(warehouse, entity(table))
    assert listed() == deliveries
    assert (
        warehouse.execute("select service_id, incident_id from raw_current.irs__incidents order by all").fetchall()
        == current
    )


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_unchanged_files_are_skipped_by_size_and_time_without_being_read(warehouse, landing, settings, monkeypatch):
    key = load_pseudonymiser(settings.secrets_dir)
    load_reference(warehouse, landing, key)
    march, april = "irs/T1/incidents_2024-03.csv", "irs/T1/incidents_2024-04.csv"
    land(landing, march, INC_HEADER + inc("A1"))
    land(landing, april, INC_HEADER + inc("B1", "2024-04-05 10:00:00"))
    fresh = landing / "irs/T1/incidents_2024-05.csv"
    land(landing, fresh.relative_to(landing).as_posix(), INC_HEADER + inc("C1", "2024-05-05 10:00:00"))
    an_hour_ago = time.time() - 3600
    for name in (march, april):
        os.utime(landing / name, (an_hour_ago, an_hour_ago))
    irs = entity("irs__incidents")
    assert ingest_entity(warehouse, irs, landing, key).totals()["rows_loaded"] == 3
    logged = dict(warehouse.execute("select file_name, file_mtime_ns from audit.ingestion_log").fetchall())
    assert logged[march] == (landing / march).stat().st_mtime_ns
    assert logged[fresh.relative_to(landing).as_posix()] is None  # written just now: may change within a tick

    read: list[str] = []
    real_read = readers._read_regular_file
    monkeypatch.setattr(readers, "_read_regular_file", lambda path: read.append(path.name) or real_read(path))

    def run() -> dict[str, str]:
        read.clear()
        return {o.file_name: o.status for o in ingest_entity(warehouse, irs, landing, key).outcomes}

    # Only the file written too recently to trust its time is read and hashed again.
    assert set(run().values()) == {"skipped"} and read == ["incidents_2024-05.csv"]
    # Touched (same bytes, new time): read and hashed once, still skipped as the same file, and
    # its new time noted, so the next run skips it unread (as for a log from before file times).
    os.utime(landing / march, (an_hour_ago + 60, an_hour_ago + 60))
    assert run()[march] == "skipped" and "incidents_2024-03.csv" in read
    assert run()[march] == "skipped" and "incidents_2024-03.csv" not in read
    # Rewritten with other bytes: a changed file, loaded again.
    land(landing, april, INC_HEADER + inc("B1", "2024-04-05 10:00:00") + inc("B2", "2024-04-06 10:00:00"))
    assert run()[april] == "loaded"
    assert warehouse.execute("select count(*) from raw_current.irs__incidents").fetchone()[0] == 4


def test_a_log_from_before_file_times_gains_the_column(settings):
    with connect(settings.warehouse_path) as con:
        con.execute("create schema audit")
        con.execute("create table audit.ingestion_log (batch_id bigint primary key, file_name varchar, status varchar)")
        con.execute("insert into audit.ingestion_log values (1, 'irs/T1/incidents_2024-03.csv', 'rejected')")
        ensure_audit_schema(con)
        # It also says "refused" where such a log said "rejected".
        assert con.execute("select file_name, file_mtime_ns, status from audit.ingestion_log").fetchall() == [
            ("irs/T1/incidents_2024-03.csv", None, "refused")
        ]


def test_a_column_the_contract_gained_is_added_to_a_raw_table_made_before_it(warehouse):
    """A raw table made under an older contract gets a column the contract gained since, null for the
    rows already loaded, so staging can read it without reloading old files."""
    import dataclasses

    from orchestration.ingestion.contracts import Column

    wards = entity("reference__wards")
    ensure_raw_table(warehouse, wards)
    warehouse.execute(
        "insert into raw.reference__wards (ward_code, service_id, _batch_id) values ('E05000001', 'T1', 1)"
    )
    grown = dataclasses.replace(wards, columns=(*wards.columns, Column("boundary_note", "str")))
    ensure_raw_table(warehouse, grown)
    assert warehouse.execute("select ward_code, boundary_note from raw.reference__wards").fetchall() == [
        ("E05000001", None)
    ]
