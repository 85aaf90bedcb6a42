"""The real public data: the Home Office and ONS publication files (adapters in Python, since
these one-off national tables are not a service's extracts) and London Fire Brigade's incident and
mobilisation records (through LFB's source mappings, like any service's).

Each adapter returns a string-valued ``ReadResult`` for the ingestion engine to validate and load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from orchestration.ingestion import contracts
from orchestration.ingestion.contracts import Entity
from orchestration.ingestion.readers import (
    ROW_COLUMN,
    Malformed,
    ReadResult,
    SchemaError,
    decode,
    read_csv_text,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "GT_REAL_DATA_DIR"

# ----------------------------------------------------------------------------- contracts

# The national tables' contracts: sources/contracts/home_office.yml and ons.yml.
REAL_ENTITIES: tuple[Entity, ...] = contracts.load_contracts().national_entities


def real_entity(table: str) -> Entity:
    """Contract for a raw table written by a real-data adapter (real or shared contract)."""
    for e in REAL_ENTITIES:
        if e.table == table:
            return e
    return contracts.entity(table)


# ----------------------------------------------------------------------------- shared helpers

def _clean(value: str | None) -> str | None:
    """Strip edge whitespace (incl. non-breaking spaces and stray newlines); blank → None."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _read_source(
    path: Path, expected: Iterable[str], *, delimiter: str = ","
) -> tuple[ReadResult, list[str]]:
    """Decode and parse a source file; raise SchemaError if expected source columns are absent.

    Returns the raw parse and the file's physical lines (for the raw text of unmappable rows).
    """
    text, encoding, warnings = decode(path.read_bytes())
    raw = read_csv_text(text, delimiter=delimiter)
    raw.encoding, raw.warnings = encoding, list(warnings)
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        raise SchemaError(f"{path.name}: missing source columns: {', '.join(missing)}")
    return raw, text.splitlines()


def _result(
    entity: Entity,
    rows: list[dict[str, str | None]],
    numbers: list[int],
    raw: ReadResult,
    malformed: list[Malformed] | None = None,
    warnings: list[str] | None = None,
) -> ReadResult:
    columns = [c.name for c in entity.columns]
    if rows:
        frame = pd.DataFrame([[r.get(c) for c in columns] for r in rows], columns=columns,
                             dtype=object)
    else:
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    frame[ROW_COLUMN] = pd.Series(numbers, dtype="int64")
    return ReadResult(
        columns,
        frame,
        # Rows the CSV parser already rejected (wrong field count) stay accounted for.
        sorted([*raw.malformed, *(malformed or [])], key=lambda m: m.row),
        raw.encoding,
        [*raw.warnings, *(warnings or [])],
    )


def _rename(
    path: Path,
    entity: Entity,
    mapping: dict[str, str],
    *,
    delimiter: str = ",",
    fix: Callable[[str, str | None], str | None] | None = None,
) -> ReadResult:
    """One-to-one column renaming with whitespace trimming; ``fix(target, value)`` may adjust."""
    raw, _ = _read_source(path, mapping.values(), delimiter=delimiter)
    rows: list[dict[str, str | None]] = []
    for record in raw.records.to_dict("records"):
        row = {t: _clean(record[s]) for t, s in mapping.items()}
        if fix is not None:
            row = {t: fix(t, v) for t, v in row.items()}
        rows.append(row)
    return _result(entity, rows, raw.records[ROW_COLUMN].tolist(), raw)


# ----------------------------------------------------------------------------- LFB

# London Fire Brigade's extracts are read through its source mappings (sources/mappings/LFB/), as
# any service's would be: no Python of its own.


def lfb_mapped(table: str) -> Callable[[Path], ReadResult]:
    """The adapter for an LFB file: its mapping of ``table``, applied."""

    def adapter(path: Path) -> ReadResult:
        from orchestration.ingestion.mapping import apply_mapping, mapping_for

        return apply_mapping(mapping_for("LFB", table), path).result

    adapter.__name__ = f"lfb_{table}"
    return adapter


# ----------------------------------------------------------------------------- Home Office / ONS

_FIRE1001_MEASURES = {
    "total_response_time": "TOTAL_RESPONSE_TIME",
    "call_handling_time": "CALL_HANDLING_TIME",
    "crew_turnout_time": "CREW_TURNOUT_TIME",
    "drive_time": "DRIVE_TIME",
}


def fire1001_annual(path: Path) -> ReadResult:
    return _rename(path, real_entity("home_office__fire1001_annual"), {
        "financial_year": "FINANCIAL_YEAR",
        "fire_type": "FIRE_TYPE",
        "location_category": "LOCATION_CATEGORY",
        "incidents": "INCIDENTS",
        **_FIRE1001_MEASURES,
    })


def fire1001_quarterly(path: Path) -> ReadResult:
    # The quarterly sheet spells its count "Incidents" and its period "year_ending_quarter_d".
    return _rename(path, real_entity("home_office__fire1001_quarterly"), {
        "year_ending_quarter": "year_ending_quarter_d",
        "fire_type": "FIRE_TYPE",
        "location_category": "LOCATION_CATEGORY",
        "incidents": "Incidents",
        **_FIRE1001_MEASURES,
    })


def frs_categories(path: Path) -> ReadResult:
    return _rename(path, real_entity("home_office__frs_categories"), {
        "frs_name": "FRS Name",
        "urban_rural_category": "Urban/Rural category",
        "metropolitan_category": "Met/Non-met category",
    })


# West Sussex publishes no address or grid reference; every such cell holds this pointer.
_NOT_AVAILABLE = re.compile(r"not available here", re.IGNORECASE)


def fire_stations(path: Path) -> ReadResult:
    sentinels = 0

    def fix(target: str, value: str | None) -> str | None:
        nonlocal sentinels
        if value is not None and _NOT_AVAILABLE.match(value):
            # "Not available here, but please see <url>" means "not published": a null, not
            # text in a numeric column.
            sentinels += 1
            return None
        return value

    result = _rename(path, real_entity("home_office__fire_stations"), {
        "frs_name": "FRS_FULLNAME",
        "frs_code": "E_CODE",
        "station_name": "STATION_NAME",
        "station_address": "STATION_ADDRESS",
        "station_postcode": "STATION_POSTCODE",
        "easting": "STATION_EASTING",
        "northing": "STATION_NORTHING",
    }, fix=fix)
    if sentinels:
        result.warnings.append(
            f"{sentinels} 'Not available here, but please see ...' cells read as empty"
        )
    return result


def frs_register(path: Path) -> ReadResult:
    return _rename(path, real_entity("home_office__frs_register"), {
        "register_id": "fire-service-eng",
        "name": "name",
        "start_date": "start-date",
        "end_date": "end-date",
    }, delimiter="\t")


def ons_population(path: Path) -> ReadResult:
    # _clean trims the non-breaking spaces that end two ONS names (e.g. "West Northamptonshire").
    return _rename(path, real_entity("ons__population"), {
        "code": "Code",
        "name": "Name",
        "geography": "Geography",
        "population_mid_2021": "Mid-2021",
        "population_mid_2011": "Mid-2011",
        "population_mid_2001": "Mid-2001",
    })


def ons_lad_fra_lookup(path: Path) -> ReadResult:
    return _rename(path, real_entity("ons__lad_fra_lookup"), {
        "lad19_code": "LAD19CD",
        "lad19_name": "LAD19NM",
        "fra19_code": "FRA19CD",
        "fra19_name": "FRA19NM",
        "response_time_three_year_average": "Fire and Rescue response time (three-year average)",
    })


# ----------------------------------------------------------------------------- source list


@dataclass(frozen=True)
class RealSource:
    path: str  # relative to the real-data folder
    table: str  # raw table the adapter's rows land in
    adapter: Callable[[Path], ReadResult]
    service_id: str | None  # "LFB" for LFB data; None for national reference data

    @property
    def entity(self) -> Entity:
        return real_entity(self.table)


_LFB_2023 = "lfb_incidents_2023_sample/df_i.csv"
_LFB_2009 = "lfb_incident_and_mobilisation_head_2009"
_FIRE1001 = "home_office_fire1001_response_times"
_STATIONS = "home_office_fire_stations_and_frs_register"
_ONS = "ons_population_mid2021_and_lad_fra_lookup"

# Reference data first so that station codes exist before LFB incidents are checked.
REAL_SOURCES: list[RealSource] = [
    RealSource(f"{_FIRE1001}/FIRE1001_data_annual.csv", "home_office__fire1001_annual",
               fire1001_annual, None),
    RealSource(f"{_FIRE1001}/FIRE1001_data_quarterly.csv", "home_office__fire1001_quarterly",
               fire1001_quarterly, None),
    RealSource(f"{_FIRE1001}/FIRE1001_frs_geographical_categories.csv",
               "home_office__frs_categories", frs_categories, None),
    RealSource(f"{_STATIONS}/fire-stations-dataset.csv", "home_office__fire_stations",
               fire_stations, None),
    RealSource(f"{_STATIONS}/fire-service-eng.tsv", "home_office__frs_register",
               frs_register, None),
    RealSource(f"{_ONS}/ONS_MYE4_population_summary_mid2021.csv", "ons__population",
               ons_population, None),
    RealSource(f"{_ONS}/fire and rescue response times.csv", "ons__lad_fra_lookup",
               ons_lad_fra_lookup, None),
    # The 2023 sample names all 102 current grounds; the 2009 files add none (Clerkenwell,
    # closed in 2014, appears only as a mobilisation's home station).
    RealSource(_LFB_2023, "reference__stations", lfb_mapped("reference__stations"), "LFB"),
    RealSource(_LFB_2023, "irs__incidents", lfb_mapped("irs__incidents"), "LFB"),
    RealSource(f"{_LFB_2009}/LFB Incident data.csv", "irs__incidents", lfb_mapped("irs__incidents"), "LFB"),
    RealSource(f"{_LFB_2009}/LFB Mobilisation data.csv", "mobilising__mobilisations",
               lfb_mapped("mobilising__mobilisations"), "LFB"),
]


def real_data_dir(settings_value: str | None) -> Path | None:
    """The real-data folder: the setting, else ``$GT_REAL_DATA_DIR``, else
    ``<repo>/../shared/data/real``; None when that folder does not exist."""
    chosen = settings_value or os.environ.get(ENV_VAR)
    folder = Path(chosen).expanduser() if chosen else REPO_ROOT.parent / "shared" / "data" / "real"
    return folder if folder.is_dir() else None
