"""Bad deliveries never crash a step: each is refused (or its rows quarantined) with a message that
names the file and the cause, gets its one log row, and leaves its neighbours loaded and logged."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from orchestration.ingestion import readers
from orchestration.ingestion.contracts import entities_for, entity
from orchestration.ingestion.engine import (
    IngestionError,
    IngestReport,
    ingest_system,
    landed_files,
    load_pseudonymiser,
    schema_difference,
)
from orchestration.ingestion.readers import SchemaError, decode, read_landed
from orchestration.warehouse import connect
from tests.orchestration.small_extracts import INC_HEADER, STATIONS, WARDS, inc, land

INCIDENTS = entity("irs__incidents")
GOOD = INC_HEADER + inc("N1", "2024-04-05 10:00:00") + inc("N2", "2024-04-06 10:00:00")
NEIGHBOUR = "irs/T1/incidents_2024-04.csv"


@pytest.fixture
def con(settings):
    with connect(settings.warehouse_path) as c:
        yield c


@pytest.fixture
def key(settings):
    return load_pseudonymiser(settings.secrets_dir)


@pytest.fixture
def landing(settings, con, key) -> Path:
    """Reference data for service T1, loaded, and a good April of incidents beside each bad file."""
    root = settings.landing_dir
    land(root, "reference/T1/stations_2024-03-31.csv", STATIONS)
    land(root, "reference/T1/wards_2024-03-31.csv", WARDS)
    ingest_system(con, "reference", root, key).raise_for_failures()
    land(root, NEIGHBOUR, GOOD)
    return root


def log(con: duckdb.DuckDBPyConnection, system: str) -> dict[str, list[tuple]]:
    """file name -> its log rows: (raw table, status, received, loaded, quarantined, message, encoding,
    warnings, hash)."""
    rows: dict[str, list[tuple]] = {}
    for name, *rest in con.execute(
        "select file_name, raw_table, status, rows_received, rows_loaded, rows_quarantined, message, encoding, "
        "warnings, file_sha256 from audit.ingestion_log where system = ? order by batch_id",
        [system],
    ).fetchall():
        rows.setdefault(name, []).append(tuple(rest))
    return rows


def refused_once(con: duckdb.DuckDBPyConnection, report: IngestReport, rel: str, *causes: str) -> tuple:
    """The file is refused in the report, naming each cause, and in the run's error, naming the file;
    it has exactly one log row, which reconciles; the April neighbour is loaded and logged."""
    (outcome,) = [o for o in report.outcomes if o.file_name == rel]
    assert outcome.status == "refused"
    for cause in causes:
        assert cause in outcome.message, outcome.message
    system = rel.split("/")[0]
    logged = log(con, system)
    (row,) = logged[rel]
    table, status, received, loaded, quarantined, message = row[:6]
    assert (status, message) == ("refused", outcome.message)
    assert received == loaded + quarantined and loaded == 0
    if system == "irs":
        assert [r[1:5] for r in logged[NEIGHBOUR]] == [("loaded", 2, 2, 0)]
        assert con.execute(
            "select count(*) from raw.irs__incidents where _source_file = ?", [NEIGHBOUR]
        ).fetchall() == [(2,)]
    with pytest.raises(IngestionError, match=rel.replace(".", r"\.")):
        report.raise_for_failures()
    return row


# --- 1. Unreadable files are refused, by name, and their neighbours load ---------------------------


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
@pytest.mark.parametrize(
    ("content", "causes"),
    [
        pytest.param(b"", ["empty file (0 bytes)"], id="empty"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00" + bytes(200), ["is a ZIP archive", "not a CSV"], id="zip"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", ["is a PDF document", "not a CSV"], id="pdf"),
        pytest.param(b"\x00\x01\x02\x03\xc8\xc9" * 500, ["is binary", "not CSV"], id="binary"),
        pytest.param(
            (INC_HEADER + inc("A1") + 'A2,"' + "x" * 140_000 + '"\n').encode(),
            ["line 3: a value is longer than the 131,072 characters"],
            id="field-over-128KB",
        ),
        pytest.param(
            b"\xff\xfe" + "incident_id\nA\ud800".encode("utf-16-le", "surrogatepass"),
            ["begins with a UTF-16 LE byte-order mark but is not valid UTF-16 LE"],
            id="bad-utf-16",
        ),
    ],
)
def test_an_unreadable_csv_is_refused_by_name_and_its_neighbour_loads(con, landing, key, content, causes):
    rel = "irs/T1/incidents_2024-03.csv"
    (landing / rel).write_bytes(content)
    report = ingest_system(con, "irs", landing, key)
    row = refused_once(con, report, rel, *causes)
    assert row[2] == 0  # nothing was read as rows
    assert con.execute("select count(*) from audit.quarantine where file_name = ?", [rel]).fetchall() == [(0,)]


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_any_other_reader_error_refuses_that_file_only(con, landing, key, monkeypatch):
    rel = "irs/T1/incidents_2024-03.csv"
    land(landing, rel, INC_HEADER + inc("A1"))
    real = readers.read_csv_file

    def fails_on_march(path: Path, **kw):
        if path.name == "incidents_2024-03.csv":
            raise RuntimeError("the reader broke")
        return real(path, **kw)

    monkeypatch.setattr(readers, "read_csv_file", fails_on_march)
    monkeypatch.setattr(readers, "plain", lambda *args: None)  # the Python reader, not DuckDB's
    report = ingest_system(con, "irs", landing, key)
    refused_once(con, report, rel, "could not be read as CSV: RuntimeError: the reader broke")


def hr_workbook(path: Path) -> None:
    """An HR extract with its three sheets, headers only (a delivery with no rows)."""
    wb = Workbook()
    wb.remove(wb.active)
    for e in entities_for("hr"):
        wb.create_sheet(e.sheet or e.entity).append([c.name for c in e.columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_a_corrupt_workbook_and_a_csv_named_xlsx_are_refused_and_the_next_service_loads(con, settings, key):
    landing = settings.landing_dir
    corrupt, text = "hr/T1/hr_extract_2024-03-31.xlsx", "hr/T3/hr_extract_2024-03-31.xlsx"
    good = landing / "hr/T2/hr_extract_2024-03-31.xlsx"
    hr_workbook(good)
    land(landing, corrupt, "")
    (landing / corrupt).write_bytes(good.read_bytes()[:300] + bytes(300))  # cut short: calamine raises
    land(landing, text, "staff_number,first_name\nS1,Ann\n")
    report = ingest_system(con, "hr", landing, key)  # no exception: every sheet of every file logged
    logged = log(con, "hr")
    tables = [e.table for e in entities_for("hr")]
    # Each raw table reads its own sheet, so each refuses the file once.
    assert [r[:2] for r in logged[corrupt]] == [(t, "refused") for t in tables]
    assert "hr_extract_2024-03-31.xlsx: not a readable Excel workbook (" in logged[corrupt][0][5]
    assert [r[:2] for r in logged[text]] == [(t, "refused") for t in tables]
    assert "is text (perhaps a CSV file), not an Excel workbook (.xlsx)" in logged[text][0][5]
    assert [r[:2] for r in logged["hr/T2/hr_extract_2024-03-31.xlsx"]] == [(t, "loaded") for t in tables]
    assert {o.status for o in report.outcomes} == {"loaded", "refused"}


def test_bad_json_is_refused_and_the_planner_workbook_beside_it_loads(con, settings, key):
    landing = settings.landing_dir
    bad = "planner/T1/annual_plan_FY2024-25.json"
    land(landing, bad, '{"financial_year": "2024-25", "activities": [')
    land(landing, "planner/T2/annual_plan_FY2024-25.json", '{"financial_year": "2024-25", "activities": [1]}')
    wb = Workbook()
    wb.active.title = "Action log"
    wb.active.append([c.name for c in entity("planner__deep_dive_actions").columns])
    wb.save(landing / "planner/T1/deep_dive_action_log_2024-03-31.xlsx")
    report = ingest_system(con, "planner", landing, key)
    logged = log(con, "planner")
    assert [r[:2] for r in logged[bad]] == [
        ("planner__activities", "refused"),
        ("planner__activity_updates", "refused"),
    ]
    assert "annual_plan_FY2024-25.json: not valid JSON at line 1" in logged[bad][0][5]
    assert "item 1 under 'activities' is not a JSON object" in logged["planner/T2/annual_plan_FY2024-25.json"][0][5]
    assert logged["planner/T1/deep_dive_action_log_2024-03-31.xlsx"][0][:2] == ("planner__deep_dive_actions", "loaded")
    assert len(report.failures) == 4


# --- 2. Encodings are detected and named -----------------------------------------------------------


ACCENTED = INC_HEADER + inc("A1").replace("House", "Café")


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
@pytest.mark.parametrize(
    ("data", "encoding", "warning"),
    [
        (ACCENTED.encode("utf-8"), "utf-8", ""),
        (b"\xef\xbb\xbf" + ACCENTED.encode("utf-8"), "utf-8-sig", "UTF-8 with a byte-order mark"),
        (b"\xff\xfe" + ACCENTED.encode("utf-16-le"), "utf-16-le", "UTF-16 LE with a byte-order mark"),
        (b"\xfe\xff" + ACCENTED.encode("utf-16-be"), "utf-16-be", "UTF-16 BE with a byte-order mark"),
        (ACCENTED.encode("utf-16-le"), "utf-16-le", "UTF-16 LE without a byte-order mark"),
        (b"\xff\xfe\x00\x00" + ACCENTED.encode("utf-32-le"), "utf-32-le", "UTF-32 LE with a byte-order mark"),
        (ACCENTED.encode("cp1252"), "cp1252", "not valid UTF-8 (byte"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le-no-bom", "utf-32-le-bom", "cp1252"],
)
def test_the_encoding_is_detected_and_named_in_the_log(con, landing, key, data, encoding, warning):
    rel = "irs/T1/incidents_2024-03.csv"
    (landing / rel).write_bytes(data)
    ingest_system(con, "irs", landing, key).raise_for_failures()
    ((_, status, received, loaded, _, _, logged_encoding, warnings, _),) = log(con, "irs")[rel]
    assert (status, received, loaded, logged_encoding) == ("loaded", 1, 1, encoding)
    assert (warning in warnings) if warning else warnings == ""
    assert con.execute(
        "select incident_id, property_type from raw.irs__incidents where _source_file = ?", [rel]
    ).fetchall() == [("A1", "Café")]


def test_decode_names_the_file_when_a_byte_order_mark_lies():
    with pytest.raises(SchemaError, match=r"^x\.csv: begins with a UTF-16 BE byte-order mark but is not valid"):
        decode(b"\xfe\xff\xd8\x00", "x.csv")
    assert decode(b"a,b\n", "x.csv") == ("a,b\n", "utf-8", [])


# --- 3. Links and paths outside the landing area are refused unread --------------------------------


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_symlink_is_refused_unread_once(con, landing, key, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(INC_HEADER + inc("X1"))
    rel = "irs/T1/incidents_2024-03.csv"
    (landing / rel).symlink_to(outside)
    (landing / "irs/T1/incidents_2024-05.csv").symlink_to("/etc/passwd")
    report = ingest_system(con, "irs", landing, key)
    row = refused_once(con, report, rel, "a symbolic link (to ", "refused unread")
    assert row[2] == 0 and row[8] == ""  # no rows, no hash: never read
    assert "/etc/passwd" in log(con, "irs")["irs/T1/incidents_2024-05.csv"][0][5]
    assert con.execute("select count(*) from audit.quarantine").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.irs__incidents where incident_id = 'X1'").fetchall() == [(0,)]
    assert [p.name for p, *_ in landed_files(landing, INCIDENTS)] == ["incidents_2024-04.csv"]
    # The next run: still refused (the step still fails), no new log row.
    again = ingest_system(con, "irs", landing, key)
    assert {o.file_name: o.status for o in again.outcomes}[rel] == "refused"
    assert "(refused earlier)" in again.failures[0].message
    assert len(log(con, "irs")[rel]) == 1


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_linked_service_folder_and_a_fifo_are_refused_unread(con, landing, key, tmp_path):
    elsewhere = tmp_path / "other"
    land(elsewhere, "incidents_2024-03.csv", INC_HEADER + inc("X1"))
    (landing / "irs/T9").symlink_to(elsewhere, target_is_directory=True)
    os.mkfifo(landing / "irs/T1/incidents_2024-05.csv")  # reading it would block for ever
    report = ingest_system(con, "irs", landing, key)
    refused_once(con, report, "irs/T9", "a symbolic link (to ")
    refused_once(con, report, "irs/T1/incidents_2024-05.csv", "not a regular file")


def test_read_landed_itself_does_not_follow_a_link(tmp_path):
    target = land(tmp_path, "real.csv", INC_HEADER)
    (tmp_path / "incidents_2024-03.csv").symlink_to(target)
    assert read_landed(INCIDENTS, tmp_path / "incidents_2024-03.csv") == (
        0,
        "",
        None,
        "incidents_2024-03.csv: a symbolic link; refused unread",
    )


# --- 4. Nothing in a landing folder is ignored in silence ------------------------------------------


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_misnamed_files_are_refused_with_the_pattern_once(con, landing, key):
    land(landing, "irs/T1/incidents-2024-03.csv", INC_HEADER + inc("A1"))
    land(landing, "irs/T1/Incidents_2024-03.CSV", INC_HEADER + inc("A1"))
    land(landing, "irs/T1/notes.txt", "read me")
    land(landing, "irs/readme.md", "not in a service folder")
    land(landing, "_simulator/summary.json", "{}")  # the simulator's own folder: not a system's
    report = ingest_system(con, "irs", landing, key)
    pattern = "does not follow incidents_<YYYY-MM>[_rN].csv"
    refused_once(con, report, "irs/T1/incidents-2024-03.csv", pattern, "did you mean incidents_2024-03.csv?")
    refused_once(con, report, "irs/T1/Incidents_2024-03.CSV", pattern, "did you mean incidents_2024-03.csv?")
    refused_once(con, report, "irs/T1/notes.txt", pattern)
    refused_once(con, report, "irs/readme.md", "not in a service's folder")
    assert not any("_simulator" in name for name in log(con, "irs"))
    rows = con.execute("select count(*) from audit.ingestion_log").fetchall()
    again = ingest_system(con, "irs", landing, key)
    assert len(again.failures) == 4 and con.execute("select count(*) from audit.ingestion_log").fetchall() == rows


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_file_of_any_entity_of_the_system_is_not_unmatched_and_an_unmatched_one_is_logged_once(con, settings, key):
    landing = settings.landing_dir
    hr_workbook(landing / "hr/T1/hr_extract_2024-03-31.xlsx")
    land(landing, "hr/T1/notes.txt", "x")
    wb = Workbook()
    wb.active.title = "Action log"
    wb.active.append([c.name for c in entity("planner__deep_dive_actions").columns])
    land(landing, "planner/T1/annual_plan_FY2024-25.json", '{"financial_year": "2024-25", "activities": []}')
    wb.save(landing / "planner/T1/deep_dive_action_log_2024-03-31.xlsx")
    hr = ingest_system(con, "hr", landing, key)
    planner = ingest_system(con, "planner", landing, key)
    assert [(o.file_name, o.raw_table) for o in hr.failures] == [("hr/T1/notes.txt", "hr__staff")]
    assert "does not follow hr_extract_<YYYY-MM-DD>[_rN].xlsx" in hr.failures[0].message
    assert len(log(con, "hr")["hr/T1/notes.txt"]) == 1
    assert [r[1] for r in log(con, "hr")["hr/T1/hr_extract_2024-03-31.xlsx"]] == ["loaded"] * 3
    assert planner.failures == [] and {o.status for o in planner.outcomes} == {"loaded"}


# --- 5. Control characters quarantine the row, naming the column ----------------------------------


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_control_characters_quarantine_the_row_naming_the_column(con, landing, key):
    rel = "irs/T1/incidents_2024-03.csv"
    text = (
        INC_HEADER
        + inc("A\x001")  # line 2: a NUL in the id
        + inc("A2").replace("House", "Ho\x1buse")  # line 3: an escape in the property type
        + inc("A3").replace("House", '"House\twith a tab,\r\nand a line break"')  # lines 4-5: allowed
        + inc("A4")  # line 6
    )
    land(landing, rel, text)
    ingest_system(con, "irs", landing, key).raise_for_failures()
    ((_, status, received, loaded, quarantined, *_),) = log(con, "irs")[rel]
    assert (status, received, loaded, quarantined) == ("loaded", 4, 2, 2)
    reasons = dict(con.execute("select row_number, reason from audit.quarantine where file_name = ?", [rel]).fetchall())
    assert reasons == {
        2: "column incident_id: control character U+0000 in 'A\\x001'",
        3: "column property_type: control character U+001B in 'Ho\\x1buse'",
    }
    ids = con.execute("select incident_id from raw.irs__incidents where _source_file = ? order by 1", [rel]).fetchall()
    assert ids == [("A3",), ("A4",)]


# --- 6. Columns that do not match: renames only where names are alike ------------------------------


def test_schema_difference_pairs_renames_by_likeness_never_by_position():
    names = [c.name for c in INCIDENTS.columns]
    # ward_code dropped and an unrelated column added in its place: not a rename.
    swapped = [("colour" if n == "ward_code" else n) for n in names]
    assert schema_difference(INCIDENTS, swapped) == (
        "columns do not match the irs__incidents contract (missing: ward_code; unexpected: colour)"
    )
    # Case, spaces and underscores aside, alike names are suggested, best pairs first, wherever they are.
    moved = ["Incident ID", *[n for n in names if n not in ("incident_id", "ward_code")], "ward"]
    assert schema_difference(INCIDENTS, moved) == (
        "columns do not match the irs__incidents contract (missing: incident_id, ward_code; "
        "unexpected: Incident ID, ward; probably renamed: incident_id -> Incident ID, ward_code -> ward)"
    )
    assert schema_difference(INCIDENTS, [*names, "incident_id", ""]) == (
        "columns do not match the irs__incidents contract (unexpected: (a column with no name); "
        "more than once: incident_id)"
    )
    assert schema_difference(INCIDENTS, names) is None


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_file_with_other_columns_is_refused_with_its_rows_quarantined(con, landing, key):
    rel = "irs/T1/incidents_2024-03.csv"
    doubled = INC_HEADER.replace("incident_id,", "incident_id,incident_id,", 1)
    land(landing, rel, doubled + inc("A1", when="A1,2024-03-05 10:00:00"))
    report = ingest_system(con, "irs", landing, key)
    row = refused_once(con, report, rel, "more than once: incident_id")
    assert row[2:5] == (1, 0, 1)
    assert con.execute("select reason from audit.quarantine where file_name = ?", [rel]).fetchall() == [
        ("file refused: " + row[5],)
    ]


def test_a_blank_header_cell_in_a_workbook_keeps_the_columns_after_it_in_place(tmp_path):
    staff = entity("hr__staff")
    wb = Workbook()
    wb.active.title = "Staff"
    names = [c.name for c in staff.columns]
    wb.active.append([names[0], None, *names[1:]])  # a blank header cell after staff_number
    wb.active.append(["S1", "stray", *["x"] * (len(names) - 1)])
    wb.save(tmp_path / "hr_extract_2024-03-31.xlsx")
    _, _, result, error = read_landed(staff, tmp_path / "hr_extract_2024-03-31.xlsx")
    assert error is None and result is not None
    assert result.columns == [names[0], "", *names[1:]]
    assert result.records.loc[0, names[1]] == "x"  # not shifted onto the stray value
    assert "unexpected: (a column with no name)" in (schema_difference(staff, result.columns) or "")


def test_an_old_or_protected_workbook_is_named_as_such(tmp_path):
    path = land(tmp_path, "hr_extract_2024-03-31.xlsx", "")
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert read_landed(entity("hr__staff"), path)[3] == (
        "hr_extract_2024-03-31.xlsx: is an Excel 97-2003 (.xls) or password-protected workbook, "
        "not an Excel workbook (.xlsx)"
    )


@pytest.mark.slow  # runs the ingestion engine: over 0.7 s of CPU
def test_a_service_with_a_mapping_is_scanned_by_its_mapping_and_its_bad_files_refused(con, settings, key, tmp_path):
    from orchestration.ingestion.mapping import load_mappings
    from orchestration.settings import REPO_ROOT

    example = REPO_ROOT / "docs" / "examples" / "onboarding"
    mappings = load_mappings([example / "mappings"])
    landing = settings.landing_dir
    good = land(landing, "irs/NSH/Incidents 2025.csv", "")
    good.write_bytes((example / "extract" / "Incidents 2025.csv").read_bytes())
    land(landing, "irs/NSH/incidents_2025-01.csv", INC_HEADER)  # the contract's name: not NSH's
    land(landing, "irs/NSH/Incidents 2024.csv", "")  # 0 bytes
    (landing / "irs/NSH/Incidents 2023.csv").symlink_to(good)
    report = ingest_system(con, "irs", landing, key, mappings=mappings)
    by_file: dict[str, set[str]] = {}
    for o in report.outcomes:
        by_file.setdefault(o.file_name, set()).add(o.status)
    assert by_file == {
        "irs/NSH/Incidents 2025.csv": {"loaded"},  # one delivery per month it holds
        "irs/NSH/incidents_2025-01.csv": {"refused"},
        "irs/NSH/Incidents 2024.csv": {"refused"},
        "irs/NSH/Incidents 2023.csv": {"refused"},
    }
    messages = {o.file_name: o.message for o in report.failures}
    assert "file name does not follow Incidents *.csv" in messages["irs/NSH/incidents_2025-01.csv"]
    assert "empty file (0 bytes)" in messages["irs/NSH/Incidents 2024.csv"]
    assert "a symbolic link (to " in messages["irs/NSH/Incidents 2023.csv"]
    logged = log(con, "irs")
    assert all(len(logged[name]) == 1 for name in messages)
    assert len(logged["irs/NSH/Incidents 2025.csv"]) == 12
