"""Every injected fault class is caught: quarantined at ingestion with a reason, refused with a
message naming the columns, or flagged by the raw data-quality suites. The simulator's manifest
is the oracle; the detection table is printed (``make dq-report`` prints the same)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from expectations.pipeline import check_all_raw
from orchestration.ingestion.contracts import FAULT_CLASS_NAMES, SYSTEMS
from orchestration.ingestion.engine import ingest_system, load_pseudonymiser
from orchestration.ingestion.oracle import detect, detection_table, false_positives, load_manifest, render
from orchestration.warehouse import connect

# A year of faulty extracts through ingestion and every raw suite: make test runs it, make test-fast does not.
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, faulty_landing):
    data = tmp_path_factory.mktemp("faulty")
    key = load_pseudonymiser(data / "secrets")
    reports = {}
    with connect(data / "warehouse.duckdb") as con:
        for system in ("reference", *[s for s in SYSTEMS if s != "reference"]):
            reports[system] = ingest_system(con, system, faulty_landing, key)
        check_all_raw(con, run_id="fault-test", as_of=dt.date(2026, 11, 1))
    manifest = load_manifest(faulty_landing)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        detected = detect(con, manifest)
        fps = false_positives(con, manifest)
    return data, reports, manifest, detected, fps


def test_every_fault_class_is_injected_and_detected(faulty):
    _, _, _, detected, _ = faulty
    table = detection_table(detected)
    print("\n" + render(table))
    assert set(table[table.injected > 0].fault_class) == set(FAULT_CLASS_NAMES)
    assert (table.detected > 0).all()
    assert table.detected.sum() >= 0.99 * table.injected.sum()
    missed = detected[~detected.detected]
    assert missed.empty, missed[["file", "row", "fault_class", "detail"]].to_string()


def test_no_false_positives(faulty):
    _, _, _, _, fps = faulty
    assert fps.empty, fps.to_string()


def test_schema_drift_fails_naming_the_file_and_columns(faulty):
    _, reports, manifest, _, _ = faulty
    drift = manifest[manifest.fault_class == "schema_drift"].iloc[0]
    failures = {o.file_name: o.message for r in reports.values() for o in r.failures}
    message = failures[drift.file]
    for old, new in drift.extra["renamed"].items():
        # Named as missing and unexpected; not paired, as the names are not alike (never by position).
        assert old in message.split("missing: ")[1].split(";")[0]
        assert new in message.split("unexpected: ")[1].split(";")[0]
        assert "probably renamed" not in message
    for dropped in drift.extra["dropped"]:
        assert dropped in message.split("missing: ")[1]
    with pytest.raises(Exception, match=drift.file):
        reports[drift.system].raise_for_failures()


def test_every_quarantined_row_has_a_reason(faulty):
    data, *_ = faulty
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        blank = con.execute("select count(*) from audit.quarantine where coalesce(reason, '') = ''").fetchall()[0][0]
        unreconciled = con.execute(
            "select count(*) from audit.ingestion_log where rows_received <> rows_loaded + rows_quarantined"
        ).fetchall()[0][0]
    assert blank == 0 and unreconciled == 0


def test_windows_1252_file_loads_with_its_accents(faulty):
    data, _, manifest, _, _ = faulty
    entry = manifest[manifest.fault_class == "encoding_cp1252"].iloc[0]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        names = {
            r[0]
            for r in con.execute(
                "select distinct property_type from raw.irs__incidents where _source_file = ?", [entry.file]
            ).fetchall()
        }
    assert any("é" in (n or "") for n in names)


def test_redelivery_supersedes_the_month_and_raw_keeps_history(faulty):
    data, _, manifest, _, _ = faulty
    corrections = manifest[(manifest.fault_class == "redelivery") & manifest.record_key.notna()]
    assert len(corrections)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        for e in corrections.itertuples():
            column = e.extra["column"]
            current = con.execute(
                f"select {column}, _source_file from raw_current.irs__incidents where incident_id = ?", [e.record_key]
            ).fetchall()
            assert len(current) == 1 and str(current[0][0]) == str(e.extra["value"]) and current[0][1] == e.file
            history = con.execute(
                "select count(*) from raw.irs__incidents where incident_id = ?", [e.record_key]
            ).fetchall()
            assert history[0][0] == 2
