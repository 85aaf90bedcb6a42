"""Adapters that map real public files (LFB, Home Office, ONS) onto raw contracts.

Each adapter returns a string-valued ``ReadResult`` for the ingestion engine to validate and load.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from orchestration.ingestion import contracts
from orchestration.ingestion.contracts import C, Entity
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

_URBAN_RURAL = ("Predominantly Urban", "Significantly Rural", "Predominantly Rural")
_MET = ("Metropolitan", "Non-metropolitan")


def _fire1001_measures(count: str) -> tuple:
    # Times are Excel fractions of a day (0.0056 = 8 min 07 s); staging converts to seconds.
    return (
        C(count, "int", required=True, minimum=0),
        C("total_response_time", "float", minimum=0, maximum=1),
        C("call_handling_time", "float", minimum=0, maximum=1),
        C("crew_turnout_time", "float", minimum=0, maximum=1),
        C("drive_time", "float", minimum=0, maximum=1),
    )


REAL_ENTITIES: tuple[Entity, ...] = (
    Entity(
        "home_office", "fire1001_annual", "FIRE1001_data_annual", "csv", "snapshot",
        (
            C("financial_year", required=True),  # "2010/11"; 2021/22 is April–September only
            C("fire_type", required=True),
            C("location_category", required=True),  # FRS name, England or a grouping
            *_fire1001_measures("incidents"),
        ),
        key=("financial_year", "fire_type", "location_category"),
    ),
    Entity(
        "home_office", "fire1001_quarterly", "FIRE1001_data_quarterly", "csv", "snapshot",
        (
            C("year_ending_quarter", required=True),  # "Year ending September 2010" (rolling year)
            C("fire_type", required=True),
            C("location_category", required=True),
            *_fire1001_measures("incidents"),
        ),
        key=("year_ending_quarter", "fire_type", "location_category"),
    ),
    Entity(
        "home_office", "frs_categories", "FIRE1001_frs_geographical_categories", "csv",
        "snapshot",
        (
            C("frs_name", required=True),
            C("urban_rural_category", required=True, allowed=_URBAN_RURAL),
            C("metropolitan_category", required=True, allowed=_MET),
        ),
        key=("frs_name",),
    ),
    Entity(
        "home_office", "fire_stations", "fire-stations-dataset", "csv", "snapshot",
        (
            C("frs_name", required=True),
            C("frs_code", required=True),  # E31000xxx; the Isles of Scilly use LAD E06000053
            C("station_name", required=True),
            C("station_address"),
            C("station_postcode"),
            C("easting", "float", minimum=0, maximum=700_000),
            C("northing", "float", minimum=0, maximum=1_300_000),
        ),
        key=("frs_code", "station_name"),
    ),
    Entity(
        # Tab-separated in the source; "csv" is the nearest FileFormat and the adapter parses it.
        "home_office", "frs_register", "fire-service-eng", "csv", "snapshot",
        (
            C("register_id", required=True),  # zero-padded "001".."045": keep as text
            C("name", required=True),
            C("start_date", "date"),
            C("end_date", "date"),
        ),
        key=("register_id",),
    ),
    Entity(
        "ons", "population", "ONS_MYE4_population_summary_mid2021", "csv", "snapshot",
        (
            C("code", required=True),
            C("name", required=True),
            C("geography", required=True),
            C("population_mid_2021", "int", required=True, minimum=0),
            C("population_mid_2011", "int", minimum=0),
            C("population_mid_2001", "int", minimum=0),
        ),
        key=("code",),
    ),
    Entity(
        "ons", "lad_fra_lookup", "fire and rescue response times", "csv", "snapshot",
        (
            C("lad19_code", required=True),
            C("lad19_name", required=True),
            C("fra19_code", required=True),
            C("fra19_name", required=True),
            # British Red Cross derived value serialised as "1899-12-31T00:08:04Z" (8 min 04 s);
            # kept as text because it is a duration dressed up as a timestamp.
            C("response_time_three_year_average"),
        ),
        key=("lad19_code",),
    ),
)


def real_entity(table: str) -> Entity:
    """Contract for a raw table written by a real-data adapter (real or shared contract)."""
    for e in REAL_ENTITIES:
        if e.table == table:
            return e
    return contracts.entity(table)


# ----------------------------------------------------------------------------- shared helpers

_INT_AS_FLOAT = re.compile(r"[+-]?\d+\.0*")


def _clean(value: str | None) -> str | None:
    """Strip edge whitespace (incl. non-breaking spaces and stray newlines); blank → None."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _int_text(value: str | None) -> str | None:
    """``"416.0"`` → ``"416"``; anything else is passed through for the engine to judge."""
    value = _clean(value)
    if value is not None and _INT_AS_FLOAT.fullmatch(value):
        return value.split(".")[0]
    return value


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


def _raw_line(lines: list[str], starts: list[int], row: int) -> str:
    """Physical text of the record starting at ``row`` (up to the next record's first line)."""
    later = [s for s in starts if s > row]
    end = min(later) - 1 if later else len(lines)
    return "\n".join(lines[row - 1 : end]).rstrip("\r\n")


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


# ----------------------------------------------------------------------------- LFB incidents

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?")  # 2018+ extract
_OLD_DATE = re.compile(r"(\d{1,2}) ([A-Za-z]{3}) (\d{4})")  # 2009-2017 extract: "01 Jan 2009"
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _date(text: str) -> tuple[str, str] | None:
    """(ISO date, style) or None when the date's format is not one LFB has used."""
    if m := _ISO_DATE.fullmatch(text):
        return f"{m[1]}-{m[2]}-{m[3]}", "iso"
    if (m := _OLD_DATE.fullmatch(text)) and m[2].lower() in _MONTHS:
        return f"{m[3]}-{_MONTHS[m[2].lower()]:02d}-{int(m[1]):02d}", "dd mon yyyy"
    if m := _UK_DATE.fullmatch(text):
        return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}", "dd/mm/yyyy"
    return None


def _time(text: str) -> str | None:
    if m := _TIME.fullmatch(text):
        return f"{int(m[1]):02d}:{m[2]}:{m[3] or '00'}"
    return None


def _combine(date_text: str | None, time_text: str | None) -> tuple[str | None, str | None]:
    """Date and time text → ("YYYY-MM-DD HH:MM:SS", date style).

    Unrecognised text is passed through unchanged so that the engine's timestamp cast
    quarantines the record with its own reason; a missing half gives None (a date alone would
    otherwise be read as midnight).
    """
    if not date_text or not time_text:
        return None, None
    parsed_date, parsed_time = _date(date_text), _time(time_text)
    if parsed_date is None or parsed_time is None:
        return f"{date_text} {time_text}", None
    return f"{parsed_date[0]} {parsed_time}", parsed_date[1]


def _timestamp(value: str | None) -> str | None:
    """One date-time cell (``01/01/2009 00:02:27`` or ISO) → ``YYYY-MM-DD HH:MM:SS``."""
    value = _clean(value)
    if value is None:
        return None
    date_text, _, time_text = re.sub(r"(?<=\d)T(?=\d)", " ", value).rpartition(" ")
    combined, style = _combine(date_text, time_text)
    return combined if style else value


def _incident_number(value: str | None) -> str | None:
    # 2018+ numbers are text ("038967-19032023"); 2009-2017 numbers are bare integers that
    # a spreadsheet round trip may have written as floats ("235138081.0").
    return _int_text(value)


# StopCodeDescription → (incident_category, incident_type). Special Service is refined by
# SpecialServiceType below; Late Call is resolved per row (see _categorise).
_STOP_CODES: dict[str, tuple[str, str]] = {
    "primary fire": ("primary_fire", "fire"),
    "secondary fire": ("secondary_fire", "fire"),
    "chimney fire": ("chimney_fire", "fire"),
    "afa": ("false_alarm", "apparatus"),
    "false alarm - good intent": ("false_alarm", "good_intent"),
    "false alarm - malicious": ("false_alarm", "malicious"),
    "special service": ("special_service", "other_special_service"),
    # LFB's batch code for flood calls taken during spate conditions; always SpecialServiceType
    # Flooding in the data.
    "flood call attended - batch mobilised": ("special_service", "flooding"),
}

# SpecialServiceType → incident_type. LFB's other types (No action, Advice Only, Making Safe,
# Spills and Leaks, Removal of objects from people, Suicide/attempts, Stand By, Evacuation,
# Other rescue/release, Other Transport incident) have no dedicated type: other_special_service.
_SPECIAL_SERVICES = {
    "rtc": "rtc",
    "flooding": "flooding",
    "lift release": "lift_release",
    "assist other agencies": "assist_other_agency",
    "animal assistance incidents": "animal_rescue",
    "medical incident": "medical",
    "medical incident - co-responder": "medical",
    "effecting entry/exit": "effecting_entry",
    "hazardous materials incident": "hazmat",
    "rescue or evacuation from water": "water_rescue",
}

_PROPERTY_CATEGORIES = {
    "dwelling": "dwelling",
    "other residential": "other_residential",
    "non residential": "non_domestic",
    "road vehicle": "vehicle",
    "outdoor": "outdoor",
    "outdoor structure": "outdoor_structure",
    # Rail Vehicle, Aircraft, Boat and anything new → "other" (see _property_category).
}

INCIDENT_SOURCE_COLUMNS = (
    "IncidentNumber", "DateOfCall", "TimeOfCall", "IncidentGroup", "StopCodeDescription",
    "SpecialServiceType", "PropertyCategory", "PropertyType", "IncGeo_WardCode",
    "IncidentStationGround", "FirstPumpArriving_AttendanceTime", "NumPumpsAttending",
)


def _property_category(value: str | None) -> str | None:
    # A blank stays None (the engine reports the missing mandatory value) rather than
    # inventing "other"; an unlisted but present category is genuinely "other".
    if value is None:
        return None
    return _PROPERTY_CATEGORIES.get(value.lower(), "other")


def _categorise(
    stop_code: str | None, special_type: str | None, property_category: str | None
) -> tuple[str, str] | None:
    code = (stop_code or "").lower()
    if code == "late call":
        # A late call is a fire reported after it was out (IncidentGroup "Fire"); LFB gives no
        # primary/secondary split, so it is classed by location, following the Home Office
        # rule that fires in buildings, vehicles and outdoor structures are primary: Outdoor →
        # secondary, anything else → primary. The one 2023 example is a fire station (Non
        # Residential) → primary_fire. is_late_call = Y keeps it separable.
        return ("secondary_fire" if property_category == "outdoor" else "primary_fire"), "fire"
    mapped = _STOP_CODES.get(code)
    if mapped is None:
        return None
    if code == "special service":
        return "special_service", _SPECIAL_SERVICES.get(
            (special_type or "").lower(), "other_special_service"
        )
    return mapped


def lfb_incidents(path: Path) -> ReadResult:
    """LFB incident records (2009-2017 or 2018+ layout) → ``irs__incidents``.

    The date style is detected per row: ISO ``2023-01-01`` (2018+) or ``01 Jan 2009`` (2009).
    """
    entity = contracts.entity("irs__incidents")
    raw, lines = _read_source(path, INCIDENT_SOURCE_COLUMNS)
    starts = sorted([*raw.records[ROW_COLUMN].tolist(), *(m.row for m in raw.malformed)])
    rows: list[dict[str, str | None]] = []
    numbers: list[int] = []
    malformed: list[Malformed] = []
    styles: set[str] = set()
    for record in raw.records.to_dict("records"):
        src = {k: _clean(v) for k, v in record.items() if k != ROW_COLUMN}
        number = int(record[ROW_COLUMN])
        prop_cat = _property_category(src["PropertyCategory"])
        category = _categorise(src["StopCodeDescription"], src["SpecialServiceType"], prop_cat)
        if category is None:
            malformed.append(Malformed(
                number,
                f"unrecognised StopCodeDescription {src['StopCodeDescription']!r}: "
                "no incident category can be assigned",
                _raw_line(lines, starts, number),
            ))
            continue
        call_at, style = _combine(src["DateOfCall"], src["TimeOfCall"])
        if style:
            styles.add(style)
        ground = src["IncidentStationGround"]
        rows.append({
            "incident_id": _incident_number(src["IncidentNumber"]),
            "call_at": call_at,
            # LFB publishes ground names only; the upper-cased name is the stable station code
            # shared with lfb_stations and the mobilisation adapter.
            "station_ground": ground.upper() if ground else None,
            "ward_code": src["IncGeo_WardCode"],
            "incident_category": category[0],
            "incident_type": category[1],
            "property_category": prop_cat,
            "property_type": src["PropertyType"],  # trailing spaces removed by _clean
            # LFB does not publish fire motive: not recorded (null), so the deliberate-fire KPIs
            # show "not recorded" rather than 0; accidental counts a missing motive as not known.
            "motive": None,
            "is_confined_to_room": None,  # not published
            "is_late_call": "Y" if (src["StopCodeDescription"] or "").lower() == "late call"
            else "N",
            # Casualties, fatalities and rescues are not in the public extract.
            "appliances_attending": _int_text(src["NumPumpsAttending"]),
            # Seconds from mobilisation to first pump in attendance (LFB's own measure).
            "first_pump_attendance_seconds": _int_text(src["FirstPumpArriving_AttendanceTime"]),
        })
        numbers.append(number)
    warnings = []
    if len(styles) > 1:
        warnings.append(f"mixed date styles in one file: {', '.join(sorted(styles))}")
    return _result(entity, rows, numbers, raw, malformed, warnings)


def lfb_stations(incidents: ReadResult) -> ReadResult:
    """Distinct LFB station grounds from mapped incidents → ``reference__stations`` rows.

    ``_source_row`` is the first incident row naming the ground. Rows received is the number of
    grounds, not of incident rows: this is a derived reference list.
    """
    entity = contracts.entity("reference__stations")
    first: dict[str, int] = {}
    frame = incidents.records
    for ground, number in zip(frame["station_ground"], frame[ROW_COLUMN], strict=True):
        if ground and (ground not in first or number < first[ground]):
            first[ground] = int(number)
    rows: list[dict[str, str | None]] = []
    numbers: list[int] = []
    for ground, number in sorted(first.items(), key=lambda item: item[1]):
        rows.append({
            "station_id": ground,
            "station_name": string.capwords(ground.lower()),
            "group_id": "LFB",
            "group_name": "London Fire Brigade",
            # LFB stations are all wholetime on a four-watch system.
            "duty_system": "wholetime",
            "watches": "Red;White;Blue;Green",
            # Start of the earliest LFB extract held, not the station's opening date.
            "valid_from": "2009-01-01",
        })
        numbers.append(number)
    empty = ReadResult([], pd.DataFrame(), [], incidents.encoding, [])
    return _result(entity, rows, numbers, empty)


def lfb_stations_from_file(path: Path) -> ReadResult:
    return lfb_stations(lfb_incidents(path))


# ----------------------------------------------------------------------------- LFB mobilisations

MOBILISATION_SOURCE_COLUMNS = (
    "IncidentNumber", "ResourceMobilisationId", "Resource_Code", "DateAndTimeMobilised",
    "DateAndTimeMobile", "DateAndTimeArrived", "DeployedFromStation_Name", "PumpOrder",
)


def lfb_mobilisations_2009(path: Path) -> ReadResult:
    """LFB mobilisation records (``DD/MM/YYYY HH:MM:SS``) → ``mobilising__mobilisations``.

    The file has no call-received time, so ``call_received_at`` is left None (the contract marks
    it required, so the engine will quarantine such rows unless ``with_incident_call_times`` is
    applied first). LFB's AttendanceTimeSeconds runs from mobilisation, not from the call.
    """
    entity = contracts.entity("mobilising__mobilisations")
    raw, _ = _read_source(path, MOBILISATION_SOURCE_COLUMNS)
    rows: list[dict[str, str | None]] = []
    for record in raw.records.to_dict("records"):
        src = {k: _clean(v) for k, v in record.items() if k != ROW_COLUMN}
        station = src["DeployedFromStation_Name"]
        rows.append({
            # LFB's own per-mobilisation id: unique, whereas IncidentNumber + Resource_Code
            # repeats when a resource is mobilised to the same incident twice.
            "mobilisation_id": _int_text(src["ResourceMobilisationId"]),
            "incident_id": _incident_number(src["IncidentNumber"]),
            "appliance_id": src["Resource_Code"],  # call sign, e.g. H271
            # The upper-cased station name matches incident station_ground codes; LFB's
            # DeployedFromStation_Code (e.g. H27) appears in no other file.
            "station_id": station.upper() if station else None,
            "call_received_at": None,
            "mobilised_at": _timestamp(src["DateAndTimeMobilised"]),
            "mobile_at": _timestamp(src["DateAndTimeMobile"]),  # empty in some rows: None
            "in_attendance_at": _timestamp(src["DateAndTimeArrived"]),
            "pump_order": _int_text(src["PumpOrder"]),
        })
    return _result(entity, rows, raw.records[ROW_COLUMN].tolist(), raw)


def with_incident_call_times(mobilisations: ReadResult, incidents: ReadResult) -> ReadResult:
    """Opt-in: fill ``call_received_at`` from the joined incident's ``call_at`` (the 999 call).

    Mobilisations whose incident is absent keep None.
    """
    calls = dict(zip(incidents.records["incident_id"], incidents.records["call_at"],
                     strict=True))
    frame = mobilisations.records.copy()
    frame["call_received_at"] = [calls.get(i) for i in frame["incident_id"]]
    unmatched = int(frame["call_received_at"].isna().sum())
    warnings = list(mobilisations.warnings)
    if unmatched:
        warnings.append(f"{unmatched} mobilisations have no matching incident call time")
    return ReadResult(mobilisations.columns, frame, list(mobilisations.malformed),
                      mobilisations.encoding, warnings)


def lfb_mobilisations_2009_with_calls(path: Path) -> ReadResult:
    """The 2009 mobilisations with ``call_received_at`` taken from the incident file beside them.

    The mobilisation extract has no call time; the incident record's 999 call time is the
    same event, so joining it in is a fact, not an estimate. Unmatched rows keep None and are
    quarantined by the engine with a reason.
    """
    return with_incident_call_times(
        lfb_mobilisations_2009(path), lfb_incidents(path.parent / "LFB Incident data.csv")
    )


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
    RealSource(_LFB_2023, "reference__stations", lfb_stations_from_file, "LFB"),
    RealSource(_LFB_2023, "irs__incidents", lfb_incidents, "LFB"),
    RealSource(f"{_LFB_2009}/LFB Incident data.csv", "irs__incidents", lfb_incidents, "LFB"),
    RealSource(f"{_LFB_2009}/LFB Mobilisation data.csv", "mobilising__mobilisations",
               lfb_mobilisations_2009_with_calls, "LFB"),
]


def real_data_dir(settings_value: str | None) -> Path | None:
    """The real-data folder: the setting, else ``$GT_REAL_DATA_DIR``, else
    ``<repo>/../shared/data/real``; None when that folder does not exist."""
    chosen = settings_value or os.environ.get(ENV_VAR)
    folder = Path(chosen).expanduser() if chosen else REPO_ROOT.parent / "shared" / "data" / "real"
    return folder if folder.is_dir() else None
