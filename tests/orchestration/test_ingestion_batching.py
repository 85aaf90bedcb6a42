"""Batched loading: files (of one service or several) are validated and written together, yet every file keeps
its own log row, counts, batch id and quarantine rows, and the results equal loading the
files one at a time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from orchestration.ingestion import readers
from orchestration.ingestion.contracts import Column, Entity, KnownCode, entity
from orchestration.ingestion.engine import ingest_entity, ingest_system, load_pseudonymiser
from orchestration.ingestion.validate import FileSpan, Pseudonymiser, validate
from orchestration.warehouse import connect
from tests.orchestration.small_extracts import INC_HEADER, STATIONS, WARDS, inc, land

INCIDENTS = entity("irs__incidents")


def snapshot(con) -> dict[str, list[tuple]]:
    """Everything ingestion wrote, without wall-clock columns (a file's modification time is one: it is
    logged only once the file is 2 s old, so it depends on when the test landed it)."""
    return {
        "raw": con.execute("select * exclude (_loaded_at) from raw.irs__incidents order by all").fetchall(),
        "current": con.execute("select * exclude (_loaded_at) from raw_current.irs__incidents order by all").fetchall(),
        "quarantine": con.execute("select * exclude (quarantined_at) from audit.quarantine order by all").fetchall(),
        "log": con.execute(
            "select * exclude (run_id, started_at, finished_at, file_mtime_ns) from audit.ingestion_log order by all"
        ).fetchall(),
    }


def land_months(root: Path) -> None:
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    land(
        root,
        "irs/T1/incidents_2024-03.csv",
        INC_HEADER
        + inc("A1")  # line 2
        + inc("A2")  # 3
        + inc("A4", serious="two")  # 4: text in numeric
        + inc("A2"),  # 5: duplicate within the file
    )
    # Re-delivered March: A1 withdrawn, A2 kept, A3 added.
    land(root, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER + inc("A2") + inc("A3"))
    # A second correction whose only row is refused: held (all its rows quarantined), so r2 stays current.
    land(root, "irs/T1/incidents_2024-03_r3.csv", INC_HEADER + inc("A9", station="ZZ99"))
    april = land(
        root,
        "irs/T1/incidents_2024-04.csv",
        INC_HEADER
        + inc("A1", when="2024-04-02 09:00:00")  # 2: A1 is no longer current anywhere: loads
        + inc("A3", when="2024-04-02 09:00:00")  # 3: already current in March r2
        + "B1,2024-04-02 09:00:00,S01\n"  # 4: malformed
        + inc("B2", when="2024-03-31 23:59:59"),  # 5: outside the file's period
    )
    land(root, "irs/T1/incidents_2024-05.csv", INC_HEADER + inc("A2", when="2024-05-01 00:00:00"))  # dup of r2
    # The same bytes as May in a revision of May: a re-delivery that repeats it, judged like any
    # other (and May loaded nothing, so no rows of these bytes are in raw).
    land(root, "irs/T1/incidents_2024-05_r2.csv", INC_HEADER + inc("A2", when="2024-05-01 00:00:00"))
    # Drifted columns: refused whole, its rows quarantined.
    land(root, "irs/T1/incidents_2024-06.csv", INC_HEADER.replace("ward_code", "ward") + inc("C1", when="2024-06-01"))
    # April's bytes under July's name, read while April still waits in the same batch: a copy of
    # a loaded file, refused whole.
    (root / "irs/T1/incidents_2024-07.csv").write_bytes(april.read_bytes())
    # Another service in the same run: its own batch, own duplicate scope.
    land(root, "reference/T2/stations_2024-03-31.csv", STATIONS)
    land(root, "irs/T2/incidents_2024-03.csv", INC_HEADER + inc("A1", ward=""))
    # T1's April copied into T2's folder: T2's duplicate-key scope cannot see it; the hash does.
    land(root, "irs/T2/incidents_2024-04.csv", april.read_text())


def ingest_all(settings, batch_rows: int):
    key = load_pseudonymiser(settings.secrets_dir)
    with connect(settings.warehouse_path) as con:
        ingest_system(con, "reference", settings.landing_dir, key).raise_for_failures()
        report = ingest_entity(con, INCIDENTS, settings.landing_dir, key, batch_rows=batch_rows)
        return report, snapshot(con)


@pytest.fixture
def fixed_key_settings(settings):
    settings.secrets_dir.mkdir(parents=True)
    (settings.secrets_dir / "pseudonymisation.key").write_text("ab" * 32)
    return settings


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_batched_load_equals_loading_file_by_file(fixed_key_settings, tmp_path):
    land_months(fixed_key_settings.landing_dir)
    batched_report, batched = ingest_all(fixed_key_settings, batch_rows=1_000_000)
    other = type(fixed_key_settings)(**{**vars(fixed_key_settings), "data_dir": tmp_path / "one_by_one"})
    land_months(other.landing_dir)
    other.secrets_dir.mkdir(parents=True)
    (other.secrets_dir / "pseudonymisation.key").write_text("ab" * 32)
    single_report, single = ingest_all(other, batch_rows=1)
    assert batched == single
    assert [vars(o) for o in batched_report.outcomes] == [vars(o) for o in single_report.outcomes]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_files_duckdb_reads_load_as_files_the_python_readers_parse(fixed_key_settings, tmp_path, monkeypatch):
    """DuckDB reads the files in the contract's layout itself: the same rows, line numbers,
    quarantine, log and report as the Python readers give, with copies, refusals and batches
    interleaved."""
    land_months(fixed_key_settings.landing_dir)
    ahead_report, ahead = ingest_all(fixed_key_settings, batch_rows=3)
    assert any(o.status == "loaded" and o.rows_loaded for o in ahead_report.outcomes)
    other = type(fixed_key_settings)(**{**vars(fixed_key_settings), "data_dir": tmp_path / "in_turn"})
    land_months(other.landing_dir)
    other.secrets_dir.mkdir(parents=True)
    (other.secrets_dir / "pseudonymisation.key").write_text("ab" * 32)
    with monkeypatch.context() as patched:
        patched.setattr(readers, "plain", lambda *args: None)  # every file through the Python readers
        turn_report, in_turn = ingest_all(other, batch_rows=3)
    assert ahead == in_turn
    assert [vars(o) for o in ahead_report.outcomes] == [vars(o) for o in turn_report.outcomes]
    assert {o.status for o in ahead_report.outcomes} == {"loaded", "held", "refused"}
    # Run again, with one file touched (same bytes, new time): read, found unchanged, skipped.
    march = fixed_key_settings.landing_dir / "irs/T1/incidents_2024-03.csv"
    march.write_bytes(march.read_bytes())
    again, after = ingest_all(fixed_key_settings, batch_rows=3)
    assert {k: v for k, v in after.items() if k != "log"} == {k: v for k, v in ahead.items() if k != "log"}
    assert len(after["log"]) == len(ahead["log"])  # no new log row (its time is noted on the old one)
    assert {o.status for o in again.outcomes} == {"skipped", "refused"}


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_batched_load_reports_each_file_with_its_counts_and_quarantine(fixed_key_settings):
    land_months(fixed_key_settings.landing_dir)
    report, written = ingest_all(fixed_key_settings, batch_rows=1_000_000)
    outcomes = {o.file_name: (o.status, o.rows_received, o.rows_loaded, o.rows_quarantined) for o in report.outcomes}
    assert outcomes == {
        "irs/T1/incidents_2024-03.csv": ("loaded", 4, 2, 2),
        "irs/T1/incidents_2024-03_r2.csv": ("loaded", 2, 2, 0),
        "irs/T1/incidents_2024-03_r3.csv": ("held", 1, 0, 1),
        "irs/T1/incidents_2024-04.csv": ("loaded", 4, 1, 3),
        "irs/T1/incidents_2024-05.csv": ("loaded", 1, 0, 1),
        "irs/T1/incidents_2024-05_r2.csv": ("loaded", 1, 0, 1),
        "irs/T1/incidents_2024-06.csv": ("refused", 1, 0, 1),
        "irs/T1/incidents_2024-07.csv": ("loaded", 4, 0, 4),
        "irs/T2/incidents_2024-03.csv": ("loaded", 1, 1, 0),
        "irs/T2/incidents_2024-04.csv": ("loaded", 4, 0, 4),
    }
    # One log row per file (not per batch), each with its own batch id, in load order.
    with connect(fixed_key_settings.warehouse_path) as con:
        log = con.execute(
            "select file_name, rows_received, rows_loaded, rows_quarantined, batch_id, message "
            "from audit.ingestion_log where raw_table = 'irs__incidents' order by batch_id"
        ).fetchall()
    assert [name for name, *_ in log] == list(outcomes)
    assert [tuple(counts) for _, *counts, _, _ in log] == [outcomes[name][1:] for name, *_ in log]
    batch = {name: batch_id for name, *_, batch_id, _ in log}
    copied = (
        f"file identical to irs/T1/incidents_2024-04.csv already loaded (batch {batch['irs/T1/incidents_2024-04.csv']})"
    )
    messages = {name: message for name, *_, message in log if message}
    assert messages.pop("irs/T1/incidents_2024-06.csv").startswith("columns do not match")
    assert messages.pop("irs/T1/incidents_2024-03_r3.csv").startswith(
        "held: 0 rows would replace 2 (-100 %) of incidents_2024-03 "
        f"(batch {batch['irs/T1/incidents_2024-03_r2.csv']}, irs/T1/incidents_2024-03_r2.csv); "
        "1 of 1 rows quarantined (100 %, more than 5 %); accept with"
    )
    assert messages == {"irs/T1/incidents_2024-07.csv": copied, "irs/T2/incidents_2024-04.csv": copied}
    assert len(written["log"]) == len({r[0] for r in written["log"]})
    with connect(fixed_key_settings.warehouse_path) as con:
        quarantined = con.execute(
            "select file_name, row_number, reason from audit.quarantine where system = 'irs' order by all"
        ).fetchall()
        current = con.execute(
            "select service_id, incident_id, _source_file from raw_current.irs__incidents order by all"
        ).fetchall()
    march, r3, april, may, june = (
        "irs/T1/incidents_2024-03.csv",
        "irs/T1/incidents_2024-03_r3.csv",
        "irs/T1/incidents_2024-04.csv",
        "irs/T1/incidents_2024-05.csv",
        "irs/T1/incidents_2024-06.csv",
    )
    r2 = "irs/T1/incidents_2024-03_r2.csv"
    by_place = {(f, r): reason for f, r, reason in quarantined}
    assert "casualties_hospital_serious: 'two' is not a valid int" in by_place[(march, 4)]
    assert by_place[(march, 5)] == "duplicate key A2 (first at row 3)"
    assert "station_ground: code 'ZZ99' not in stations" in by_place[(r3, 2)]
    assert by_place[(april, 3)] == f"duplicate key A3 already loaded from {r2}"
    assert by_place[(april, 4)].startswith("malformed row: expected 19 fields")
    assert "outside the file's period 2024-04" in by_place[(april, 5)]
    assert by_place[(may, 2)] == f"duplicate key A2 already loaded from {r2}"
    assert by_place[(may.replace(".csv", "_r2.csv"), 2)] == f"duplicate key A2 already loaded from {r2}"
    for copy in ("irs/T1/incidents_2024-07.csv", "irs/T2/incidents_2024-04.csv"):
        assert [by_place[(copy, row)] for row in range(2, 6)] == [copied] * 4
    assert by_place[(june, 2)].startswith("file refused: columns do not match")
    assert current == [
        ("T1", "A1", april),
        ("T1", "A2", r2),
        ("T1", "A3", r2),
        ("T2", "A1", "irs/T2/incidents_2024-03.csv"),
    ]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_later_run_checks_against_what_earlier_runs_loaded(fixed_key_settings):
    root = fixed_key_settings.landing_dir
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    land(root, "irs/T1/incidents_2024-03.csv", INC_HEADER + inc("A1") + inc("A2"))
    key = load_pseudonymiser(fixed_key_settings.secrets_dir)
    with connect(fixed_key_settings.warehouse_path) as con:
        ingest_system(con, "reference", root, key)
        ingest_entity(con, INCIDENTS, root, key)
        # Next month's run: April repeats A1; a March correction drops A2 (adding A3, so it is not
        # held for shrinking) and is loaded first.
        land(root, "irs/T1/incidents_2024-03_r2.csv", INC_HEADER + inc("A1") + inc("A3"))
        land(
            root,
            "irs/T1/incidents_2024-04.csv",
            INC_HEADER + inc("A2", when="2024-04-02 09:00:00") + inc("A1", when="2024-04-03 09:00:00"),
        )
        report = ingest_entity(con, INCIDENTS, root, key)
        reasons = con.execute("select row_number, reason from audit.quarantine order by all").fetchall()
    assert [(o.file_name, o.status, o.rows_loaded) for o in report.outcomes] == [
        ("irs/T1/incidents_2024-03.csv", "skipped", 0),
        ("irs/T1/incidents_2024-03_r2.csv", "loaded", 2),
        ("irs/T1/incidents_2024-04.csv", "loaded", 1),
    ]
    assert reasons == [(3, "duplicate key A1 already loaded from irs/T1/incidents_2024-03_r2.csv")]


def _files_alone_and_together(ent: Entity, files: list[tuple[pd.DataFrame, str | None]], **kw):
    key = Pseudonymiser(b"k" * 32)
    common = dict(service_id="T1", pseudonymise=key, loaded_at=dt.datetime(2026, 1, 1), **kw)
    alone = [validate(ent, records, period=period, **common) for records, period in files]
    spans, start = [], 0
    for records, period in files:
        spans.append(FileSpan(start, start + len(records), period, tuple(records.columns)))
        start += len(records)
    together = validate(ent, pd.concat([r for r, _ in files], ignore_index=True), files=spans, **common)
    return alone, together


def _rows(frame: pd.DataFrame) -> list[list]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).itertuples(index=False)]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_validating_files_together_equals_one_at_a_time():
    ent = Entity(
        "t",
        "things",
        "things",
        "csv",
        "monthly",
        (
            Column("id", required=True),
            Column("count", "int", minimum=0),
            Column("amount", "float"),
            Column("at", "timestamp"),
            Column("day", "date"),
            Column("flag", "bool"),
            Column("code", allowed=("a", "b")),
            Column("staff_number", pseudonymise=True),
            Column("name", personal=True),
        ),
        key=("id",),
        period_column="day",
    )

    def frame(rows: list[list[str | None]], first_line: int = 2) -> pd.DataFrame:
        columns = [c.name for c in ent.columns]
        df = pd.DataFrame(rows, columns=columns, dtype=object)
        df["_source_row"] = range(first_line, first_line + len(rows))
        return df

    march = frame(
        [
            ["x1", "12345678901234567", "-0", "2024-03-01T10:00:00.25+01:00", "2024-03-01", "Y", "A", "s1", "Ann"],
            ["x2", None, "1.5", "2024-03-01 10:00", "2024-03-31", "no", "b", "s2", None],
            ["x1", "3", "2", "2024-03-01 10:00:00", "2024-03-02", "t", "a", "s1", "Bo"],  # duplicate in file
            ["x3", "  ", "  ", " ", "2024-04-01", "maybe", "c", " ", "Cy"],  # outside period, bad codes
            ["x4", "٣", "7", "２０２４-03-01 10:00:00", "2024-3-1", "N", None, "s3", None],  # non-ASCII digits
        ]
    )
    april = frame(
        [
            ["x1", "5.0", "9007199254740993", "2024-04-01 00:00:00Z", "2024-04-01", "1", "a", "s1", "Di"],
            ["x5", "-2", "abc", "2024-04-01T00:00:00.123456789", "2024-04-30", "0", "B", "s9", None],
            ["x6", "7", "1e3", "not a time", "2024-04-15", "F", "a", "s1", None],
        ]
    )
    may = frame([["x7", None, None, None, None, None, None, None, None]])  # a column left all empty
    files = [(march, "2024-03"), (april, "2024-04"), (may, "2024-05")]
    alone, together = _files_alone_and_together(ent, files)
    assert _rows(together.good) == [row for a in alone for row in _rows(a.good)]
    assert together.good.columns.tolist() == alone[0].good.columns.tolist()
    assert together.good_files.tolist() == [f for f, a in enumerate(alone) for _ in range(len(a.good))]
    assert together.rejected_rows.tolist() == [r for a in alone for r in a.rejected_rows.tolist()]
    assert together.reasons == [r for a in alone for r in a.reasons]
    assert together.raw_texts == [t for a in alone for t in a.raw_texts]
    assert together.rejected_files.tolist() == [f for f, a in enumerate(alone) for _ in a.reasons]
    # The awkward values really were exercised.
    # Exact: an integer is never read through a float (pandas rounded this one to ...568).
    assert together.good["count"].tolist()[0] == 12345678901234567
    assert any("duplicate key x1 (first at row 2)" in r for r in together.reasons)
    assert any("'maybe' is not a valid bool" in r for r in together.reasons)


def test_validating_several_services_files_together_equals_one_at_a_time():
    """A close checks every service's files in one call: each file's staff numbers are keyed with
    its own service and its codes judged against its own service's reference codes."""
    ent = Entity(
        "t",
        "visits",
        "visits",
        "csv",
        "monthly",
        (
            Column("id", required=True),
            Column("station", required=True),
            Column("staff_number", pseudonymise=True),
            Column("name", personal=True),
        ),
        key=("id",),
        known_codes=(KnownCode("station", "stations", "station_id"),),
    )
    key = Pseudonymiser(b"k" * 32)
    codes = {
        "T1": {("stations", "station_id"): {"S1", "S2"}},
        "T2": {("stations", "station_id"): {"S3"}},
        "T3": {},  # no stations: not checked
    }

    def frame(rows: list[list[str | None]]) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=[c.name for c in ent.columns], dtype=object)
        df["_source_row"] = range(2, 2 + len(rows))
        return df

    files = [
        ("T1", frame([["a", "S1", "7", "Ann"], ["b", "S3", "7", "Bo"], ["a", "S2", "8", None]])),
        ("T2", frame([["a", "S3", "7", "Cy"], ["c", "S1", "9", "Di"]])),
        ("T1", frame([["d", "S2", "9", None]])),
        ("T3", frame([["a", "ANY", "7", "Ed"], ["e", "S1", None, None]])),
    ]
    common = dict(pseudonymise=key, loaded_at=dt.datetime(2026, 1, 1))
    alone = [
        validate(ent, records, service_id=service, known_codes=codes[service], **common) for service, records in files
    ]
    spans, start = [], 0
    for service, records in files:
        spans.append(FileSpan(start, start + len(records), None, tuple(records.columns), service, codes[service]))
        start += len(records)
    together = validate(
        ent,
        pd.concat([r for _, r in files], ignore_index=True),
        service_id="T1",
        known_codes=codes["T1"],
        files=spans,
        **common,
    )
    assert _rows(together.good) == [row for a in alone for row in _rows(a.good)]
    assert together.reasons == [r for a in alone for r in a.reasons]
    assert together.raw_texts == [t for a in alone for t in a.raw_texts]
    assert together.rejected_files.tolist() == [f for f, a in enumerate(alone) for _ in a.reasons]
    # The same staff number is a different person in another service; unknown codes per service.
    staff = together.good["staff_key"].tolist()
    assert staff[:2] == [key("T1", "7"), key("T2", "7")] and staff[0] != staff[1]
    assert [r for r in together.reasons if "not in stations" in r] == [
        "column station: code 'S3' not in stations",
        "column station: code 'S1' not in stations",
    ]
    assert any(key("T2", "9") in t for t in together.raw_texts)
