"""Source contracts as YAML: the shipped files load into the same dataclasses, every number has a
plausible range, a bad contract names its file and field, and docs/contracts.md is current."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from orchestration.ingestion import contracts
from orchestration.ingestion.app_store import COMMENTARY_COLUMNS, COMMENTARY_ENTITY
from orchestration.ingestion.contract_docs import DOCS_PATH, render
from orchestration.ingestion.contracts import (
    SHIPPED_CONTRACTS_DIR,
    ContractError,
    code_list,
    entities_for,
    entity,
    load_contracts,
)
from orchestration.ingestion.readers import ROW_COLUMN
from orchestration.ingestion.real_data import REAL_ENTITIES
from orchestration.ingestion.validate import Pseudonymiser, validate

SYSTEM_FILES = {
    "reference", "irs", "mobilising", "hr", "competence", "prevention", "protection", "availability",
    "safeguarding", "planner", "home_office", "ons", "app",
}


# ----------------------------------------------------------------------------- the shipped contracts


def test_one_yaml_file_per_system_and_the_public_api_reads_them() -> None:
    assert {p.stem for p in SHIPPED_CONTRACTS_DIR.glob("*.yml")} == SYSTEM_FILES | {"_codes", "_systems"}
    # The order of SYSTEMS seeds the simulator's random streams: it must not move.
    assert contracts.SYSTEMS == (
        "irs", "mobilising", "hr", "competence", "prevention", "protection", "availability",
        "safeguarding", "planner", "reference",
    )
    # Reference data first: the other systems' known-code rules read it.
    assert [e.table for e in contracts.ENTITIES[:3]] == [
        "reference__stations", "reference__wards", "reference__appliances",
    ]
    assert len(contracts.ENTITIES) == 17
    assert [e.table for e in REAL_ENTITIES] == [
        "home_office__fire1001_annual", "home_office__fire1001_quarterly", "home_office__frs_categories",
        "home_office__fire_stations", "home_office__frs_register", "ons__population", "ons__lad_fra_lookup",
    ]
    assert COMMENTARY_ENTITY.table == "app__commentary"
    assert COMMENTARY_COLUMNS[:2] == ["commentary_id", "service_id"] and len(COMMENTARY_COLUMNS) == 11
    assert [e.entity for e in entities_for("hr")] == ["staff", "absences", "cases"]
    with pytest.raises(KeyError, match="no contract for raw table 'irs__nothing'"):
        entity("irs__nothing")


def test_yaml_builds_the_same_entities_as_before() -> None:
    incidents = entity("irs__incidents")
    assert (incidents.stem, incidents.format, incidents.delivery, incidents.key) == (
        "incidents", "csv", "monthly", ("incident_id",),
    )
    assert incidents.column("incident_category").allowed == code_list("incident_categories")
    assert incidents.column("call_at").type == "timestamp" and incidents.column("call_at").required
    assert [(k.column, k.ref_entity, k.ref_column) for k in incidents.known_codes] == [
        ("station_ground", "stations", "station_id"), ("ward_code", "wards", "ward_code"),
    ]
    mob = entity("mobilising__mobilisations")
    assert mob.sequence == ("call_received_at", "mobilised_at", "mobile_at", "in_attendance_at")
    assert mob.elapsed_bounds == ("call_received_at", "in_attendance_at", 0, 3600)
    staff = entity("hr__staff")
    assert staff.sheet == "Staff" and staff.column("staff_number").pseudonymise
    assert staff.column("first_name").personal and "first_name" not in {c.name for c in staff.loaded_columns}
    assert staff.column("watch").allowed == ("Red", "White", "Blue", "Green", "Day", "On-call")
    assert entity("planner__activity_updates").json_path == "activities[].status_updates"
    assert entity("protection__fire_safety_audits").column("risk_band").allowed == (
        "very_high", "high", "medium", "low",
    )
    with pytest.raises(KeyError, match="no code list 'nope'"):
        code_list("nope")


def test_every_numeric_column_has_a_plausible_range_and_every_column_a_description() -> None:
    everything = load_contracts().all_entities
    numeric = [(e.table, c) for e in everything for c in e.columns if c.type in ("int", "float")]
    assert len(numeric) > 30
    unbounded = [f"{t}.{c.name}" for t, c in numeric if c.minimum is None or c.maximum is None]
    assert unbounded == []
    undescribed = [f"{e.table}.{c.name}" for e in everything for c in e.columns if not c.description]
    assert undescribed == []
    fpa = entity("irs__incidents").column("first_pump_attendance_seconds")
    assert (fpa.minimum, fpa.maximum) == (0, 86400)


def test_an_implausible_attendance_time_is_quarantined_with_its_reason() -> None:
    incidents = entity("irs__incidents")
    good = {
        "incident_id": "I1", "call_at": "2026-04-02 10:00:00", "station_ground": "S1",
        "incident_category": "primary_fire", "incident_type": "fire", "property_category": "dwelling",
    }
    rows = [good | {"incident_id": f"I{i}", "first_pump_attendance_seconds": v}
            for i, v in enumerate(["300", "-50", "1e12"], start=1)]
    records = pd.DataFrame([{c.name: r.get(c.name) for c in incidents.columns} for r in rows], dtype=object)
    records[ROW_COLUMN] = [2, 3, 4]
    result = validate(
        incidents, records, service_id="T1", pseudonymise=Pseudonymiser(b"k" * 32),
        loaded_at=dt.datetime(2026, 5, 1), period="2026-04",
    )
    assert result.good["incident_id"].tolist() == ["I1"]
    assert result.rejected_rows.tolist() == [3, 4]
    assert all("first_pump_attendance_seconds" in r and "outside 0..86400" in r for r in result.reasons)


# ----------------------------------------------------------------------------- clear errors


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped contracts to spoil one way per test."""
    target = tmp_path / "contracts"
    shutil.copytree(SHIPPED_CONTRACTS_DIR, target)
    return target


def _edit(folder: Path, system: str, change) -> Path:
    path = folder / f"{system}.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _incidents(data: dict) -> dict:
    return data["entities"][0]


def _col(data: dict, name: str) -> dict:
    return next(c for c in _incidents(data)["columns"] if c["name"] == name)


BAD_CONTRACTS = [
    pytest.param(
        lambda d: _col(d, "call_at").update(type="datetime"),
        "entities[0] (incidents).columns[1] (call_at).type: Input should be 'str', 'int', 'float', 'date', "
        "'timestamp' or 'bool'",
        id="unknown-type",
    ),
    pytest.param(
        lambda d: _col(d, "incident_category").update(allowed="incident_categoriez"),
        "entities[0] (incidents).columns[4] (incident_category).allowed: unknown code list 'incident_categoriez'",
        id="unknown-code-list",
    ),
    pytest.param(
        lambda d: _incidents(d).update(key=["incident_number"]),
        "entities[0] (incidents): key names a column not declared in columns: incident_number",
        id="key-not-declared",
    ),
    pytest.param(
        lambda d: _col(d, "fatalities").pop("maximum"),
        "entities[0] (incidents).columns[15] (fatalities): int column needs both minimum and maximum",
        id="number-without-range",
    ),
    pytest.param(
        lambda d: _col(d, "fatalities").update(minimum=10, maximum=1),
        "columns[15] (fatalities): minimum 10 is above maximum 1",
        id="range-upside-down",
    ),
    pytest.param(
        lambda d: _col(d, "ward_code").pop("description"),
        "entities[0] (incidents).columns[3] (ward_code).description: Field required",
        id="description-missing",
    ),
    pytest.param(
        lambda d: _col(d, "ward_code").update(requird=True),
        "columns[3] (ward_code).requird: Extra inputs are not permitted",
        id="misspelt-field",
    ),
    pytest.param(
        lambda d: _incidents(d)["known_codes"].update(ward_code="parishes.parish_code"),
        "entities[0] (incidents).known_codes.ward_code: 'parishes' is not an entity of the reference system",
        id="known-code-to-nowhere",
    ),
    pytest.param(
        lambda d: _incidents(d).update(sheet="Incidents"),
        "entities[0] (incidents): sheet is needed for an xlsx entity, and only there",
        id="sheet-on-a-csv",
    ),
    pytest.param(
        lambda d: d.update(system="incidents"),
        "system: 'incidents' does not match the file name ('irs')",
        id="system-name-mismatch",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_CONTRACTS)
def test_a_bad_contract_names_its_file_and_field(folder: Path, change, message: str) -> None:
    path = _edit(folder, "irs", change)
    with pytest.raises(ContractError) as caught:
        load_contracts(folder)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_bad_yaml_and_unlisted_files_are_named(folder: Path) -> None:
    (folder / "irs.yml").write_text("system: irs\nentities: [\n")
    with pytest.raises(ContractError, match=r"irs\.yml: not valid YAML"):
        load_contracts(folder)
    shutil.copy(SHIPPED_CONTRACTS_DIR / "irs.yml", folder / "irs.yml")
    shutil.copy(SHIPPED_CONTRACTS_DIR / "irs.yml", folder / "fleet.yml")
    with pytest.raises(ContractError, match=r"_systems\.yml: contract files not listed here: fleet"):
        load_contracts(folder)


def test_an_unknown_code_in_a_shared_list_file_is_named(folder: Path) -> None:
    (folder / "_codes.yml").write_text("watches: []\n")
    with pytest.raises(ContractError, match=r"_codes\.yml: watches: List should have at least 1 item"):
        load_contracts(folder)


def test_the_check_command_reports_without_a_traceback(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert contracts.main(["--check"]) == 0
    assert "25 entities" in capsys.readouterr().out
    _edit(folder, "hr", lambda d: d["entities"][0]["columns"][10].update(maximum="lots"))
    assert contracts.main(["--check", "--dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bad contract: {folder / 'hr.yml'}: entities[0] (staff).columns[10] (fte).maximum: ")
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- the reference page


def test_docs_page_is_current() -> None:
    expected = render(load_contracts())
    assert DOCS_PATH.read_text(encoding="utf-8") == expected, (
        "docs/contracts.md is out of date: run python -m orchestration.ingestion.contracts --write-docs"
    )
    assert "### `irs__incidents`" in expected
    assert "| `first_pump_attendance_seconds` | float |  |  | 0 to 86,400 |  |" in expected
    assert "| `staff_number` | str | yes |  |  | pseudonymised |" in expected
