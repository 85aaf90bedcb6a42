"""DuckDB reads the files in the contract's layout; where it cannot place a row on its line (a quoted
line break, a blank line, a short row, bad JSON, a key the contract lacks) the Python readers read
the file instead. Either way a warehouse holds exactly what the Python readers alone would give."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.ingestion import readers
from orchestration.ingestion.engine import ingest_system, load_pseudonymiser
from orchestration.warehouse import connect
from tests.orchestration.small_extracts import INC_HEADER, STATIONS, WARDS, inc, land

MOBILISATION = {
    "mobilisation_id": "M1",
    "incident_id": "A1",
    "appliance_id": "P1",
    "station_id": "S01",
    "call_received_at": "2024-03-05T10:00:00",
    "mobilised_at": "2024-03-05T10:01:00",
    "mobile_at": "2024-03-05T10:02:00",
    "in_attendance_at": "2024-03-05T10:08:00",
    "pump_order": 1,
}


def _jsonl(*rows: dict | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def _m(i: int, **kw: object) -> dict:
    return MOBILISATION | {"mobilisation_id": f"M{i}"} | kw


AWKWARD = {
    # plain files DuckDB reads itself, one with Windows line ends
    "irs/T1/incidents_2024-01.csv": INC_HEADER + inc("A1", "2024-01-05 10:00:00") + inc("A2", "2024-01-06 10:00:00"),
    "irs/T1/incidents_2024-02.csv": (INC_HEADER + inc("B1", "2024-02-05 10:00:00")).replace("\n", "\r\n"),
    # a quoted line break moves every later row down a line
    "irs/T1/incidents_2024-03.csv": INC_HEADER
    + inc("C1", "2024-03-05 10:00:00").replace(",House,", ',"Flat\nabove shop",')
    + inc("C2", "2024-03-06 10:00:00")
    + inc("C2", "2024-03-07 10:00:00"),
    # a blank line, and a short row
    "irs/T1/incidents_2024-04.csv": INC_HEADER
    + inc("D1", "2024-04-05 10:00:00")
    + "\n"
    + "D2,2024-04-06\n"
    + inc("D3", "2024-04-07 10:00:00", appl="x"),
    # a control character: DuckDB reads the file, the rule finds it
    "irs/T1/incidents_2024-05.csv": INC_HEADER
    + inc("E\x071", "2024-05-05 10:00:00")
    + inc("E2", "2024-05-06 10:00:00"),
    "mobilising/T1/mobilisations_2024-03.jsonl": _jsonl(_m(1), _m(2, pump_order=2.0), _m(3, pump_order="x")),
    "mobilising/T1/mobilisations_2024-04.jsonl": _jsonl(
        _m(4, call_received_at="2024-04-05T10:00:00", mobilised_at=None), "{not json", _m(5)
    ),
    "mobilising/T1/mobilisations_2024-05.jsonl": _jsonl(_m(6), [1, 2]),
    "mobilising/T1/mobilisations_2024-06.jsonl": _jsonl(_m(7), _m(8) | {"extra": 1}),
}


def _load(root: Path, warehouse: Path, key) -> dict[str, list[tuple]]:
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    for rel, text in AWKWARD.items():
        land(root, rel, text)
    with connect(warehouse) as con:
        for system in ("reference", "irs", "mobilising"):
            ingest_system(con, system, root, key)
        return _snapshot(con)


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    lineage = "_batch_id, _loaded_at"
    return {
        "incidents": con.execute(f"select * exclude ({lineage}) from raw.irs__incidents order by all").fetchall(),
        "mobilisations": con.execute(
            f"select * exclude ({lineage}) from raw.mobilising__mobilisations order by all"
        ).fetchall(),
        "quarantine": con.execute(
            "select file_name, row_number, reason, raw_text from audit.quarantine order by all"
        ).fetchall(),
        "log": con.execute(
            "select file_name, status, rows_received, rows_loaded, rows_quarantined, message, encoding "
            "from audit.ingestion_log order by all"
        ).fetchall(),
    }


@pytest.fixture
def key(settings):
    return load_pseudonymiser(settings.secrets_dir)


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_files_duckdb_reads_or_hands_back_load_exactly_as_the_python_readers_load_them(
    settings, tmp_path, key, monkeypatch
):
    read_by_duckdb = []
    real = readers.plain

    def noting(path, fmt, data, expected):
        found = real(path, fmt, data, expected)
        read_by_duckdb.append(path.name) if found else None
        return found

    monkeypatch.setattr(readers, "plain", noting)
    native = _load(settings.landing_dir, settings.warehouse_path, key)
    assert "incidents_2024-01.csv" in read_by_duckdb and "mobilisations_2024-03.jsonl" in read_by_duckdb

    monkeypatch.setattr(readers, "plain", lambda *args: None)
    python = _load(tmp_path / "landing", tmp_path / "python.duckdb", key)
    assert native == python

    quarantined = {(f.rsplit("/", 1)[1], row): reason for f, row, reason, _ in native["quarantine"]}
    # Physical line numbers, whichever reader placed them.
    assert "duplicate key C2 (first at row 4)" in quarantined[("incidents_2024-03.csv", 5)]
    assert "expected 19 fields, found 2" in quarantined[("incidents_2024-04.csv", 4)]
    assert "'x' is not a valid int" in quarantined[("incidents_2024-04.csv", 5)]
    assert "'x' is not a valid int" in quarantined[("mobilisations_2024-03.jsonl", 3)]
    assert "column incident_id: control character U+0007" in quarantined[("incidents_2024-05.csv", 2)]
    assert "incidents_2024-05.csv" in read_by_duckdb
    assert "not valid JSON" in quarantined[("mobilisations_2024-04.jsonl", 2)]
    assert "line is not a JSON object" in quarantined[("mobilisations_2024-05.jsonl", 2)]
    assert "unexpected: extra" in quarantined[("mobilisations_2024-06.jsonl", 1)]
    loaded = {r[0] for r in native["mobilisations"]}
    assert {"M1", "M2"} <= loaded and "M3" not in loaded
    received = {f.rsplit("/", 1)[1]: (rec, ok + q) for f, _, rec, ok, q, _, _ in native["log"]}
    assert all(rec == total for rec, total in received.values())
