"""Real-data adapters against the public files in ../shared/data/real (PROVENANCE quirks)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from orchestration.ingestion import real_data as rd
from orchestration.ingestion.mapping import apply_mapping, mapping_for
from orchestration.ingestion.readers import ROW_COLUMN, ReadResult, SchemaError

REPO_ROOT = Path(__file__).resolve().parents[2]
LFB_2023 = "lfb_incidents_2023_sample/df_i.csv"
LFB_2009 = "lfb_incident_and_mobilisation_head_2009"
FIRE1001 = "home_office_fire1001_response_times"
STATIONS = "home_office_fire_stations_and_frs_register"
ONS = "ons_population_mid2021_and_lad_fra_lookup"

real_data = pytest.mark.real_data


@pytest.fixture(scope="module")
def real_dir() -> Path:
    folder = rd.real_data_dir(None)
    expected = Path(os.environ.get(rd.ENV_VAR) or REPO_ROOT.parent / "shared" / "data" / "real")
    if folder is None:
        if os.environ.get("REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"REQUIRE_REAL_DATA=1 but the real-data folder {expected} is absent")
        pytest.skip(f"real-data folder {expected} is absent")
    assert folder == expected
    return folder


@pytest.fixture(scope="module")
def incidents_2023(real_dir: Path) -> ReadResult:
    return lfb("irs__incidents", real_dir / LFB_2023)


@pytest.fixture(scope="module")
def incidents_2009(real_dir: Path) -> ReadResult:
    return lfb("irs__incidents", real_dir / LFB_2009 / "LFB Incident data.csv")


@pytest.fixture(scope="module")
def mobilisations_2009(real_dir: Path) -> ReadResult:
    return lfb("mobilising__mobilisations", real_dir / LFB_2009 / "LFB Mobilisation data.csv")


def lfb(table: str, path: Path) -> ReadResult:
    """An LFB file read through LFB's source mapping of ``table``."""
    return apply_mapping(mapping_for("LFB", table), path).result


# The columns of LFB's incident layout that its mapping reads, in the file's order (plus IncidentGroup).
INCIDENT_SOURCE_COLUMNS = (
    "IncidentNumber", "DateOfCall", "TimeOfCall", "IncidentGroup", "StopCodeDescription",
    "SpecialServiceType", "PropertyCategory", "PropertyType", "IncGeo_WardCode",
    "IncidentStationGround", "FirstPumpArriving_AttendanceTime", "NumPumpsAttending",
)


def _data_rows(path: Path, delimiter: str = ",") -> int:
    """Records in a file, counted independently of the adapters (header excluded)."""
    text = path.read_bytes().decode("utf-8-sig")
    return sum(1 for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row) - 1


# ----------------------------------------------------------------------------- every source


# LFB's 2023 incidents take over 2 s of CPU to map: make test-fast leaves that source out.
@real_data
@pytest.mark.parametrize(
    "source",
    [
        pytest.param(s, marks=pytest.mark.slow) if (s.table, s.path) == ("irs__incidents", LFB_2023) else s
        for s in rd.REAL_SOURCES
    ],
    ids=lambda s: f"{s.table}:{s.path}",
)
def test_every_source_maps_to_its_contract(real_dir: Path, source: rd.RealSource) -> None:
    result = source.adapter(real_dir / source.path)
    names = [c.name for c in source.entity.columns]
    assert result.columns == names
    assert list(result.records.columns) == [*names, ROW_COLUMN]
    values = result.records[names].to_numpy().ravel()
    assert all(v is None or isinstance(v, str) for v in values)
    if source.table != "reference__stations":  # derived list: one row per ground
        delimiter = "\t" if source.path.endswith(".tsv") else ","
        assert result.rows_received == _data_rows(real_dir / source.path, delimiter)
    assert result.records[ROW_COLUMN].min() >= 2


# ----------------------------------------------------------------------------- LFB incidents


@pytest.mark.slow  # reads a whole real file: over 0.7 s of CPU
@real_data
def test_lfb_2023_every_row_accounted_for_by_month(incidents_2023: ReadResult) -> None:
    assert incidents_2023.rows_received == 10_000
    assert incidents_2023.malformed == []  # every stop code in the sample is mapped
    months = incidents_2023.records["call_at"].str[:7].value_counts().sort_index()
    expected = [784, 702, 733, 757, 808, 899, 788, 808, 951, 934, 927, 909]
    assert months.to_dict() == {f"2023-{m:02d}": n for m, n in zip(range(1, 13), expected,
                                                                    strict=True)}
    assert incidents_2023.records["incident_id"].is_unique
    assert incidents_2023.records["call_at"].str.fullmatch(
        r"2023-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()


@real_data
@pytest.mark.slow  # reads LFB's 2023 incidents (the module fixture reads them for the first user)
def test_lfb_2023_categories_follow_stop_codes(incidents_2023: ReadResult) -> None:
    df = incidents_2023.records
    counts = df.groupby(["incident_category", "incident_type"]).size()
    assert counts["false_alarm", "apparatus"] == 3_999  # AFA
    assert counts["false_alarm", "good_intent"] == 933
    assert counts["false_alarm", "malicious"] == 90
    assert counts["secondary_fire", "fire"] == 570
    assert counts["primary_fire", "fire"] == 676 + 1  # + the one Late Call
    assert counts["special_service"].sum() == 3_731  # incl. the batch-mobilised flood call
    late = df[df["is_late_call"] == "Y"]
    assert late[["incident_id", "incident_category", "property_category"]].values.tolist() == [
        ["025635-20022023", "primary_fire", "non_domestic"]
    ]
    flood = df[df["incident_id"] == "147939-23092023"].iloc[0]
    assert (flood["incident_category"], flood["incident_type"]) == ("special_service", "flooding")
    assert df["motive"].isna().all()  # not published: not recorded, never "not known"
    assert df["fatalities"].isna().all() and df["rescues"].isna().all()
    # Rail Vehicle, Aircraft and Boat (8 + 8 + 7) have no category of their own.
    assert (df["property_category"] == "other").sum() == 23


@real_data
@pytest.mark.slow  # reads LFB's 2023 incidents (the module fixture reads them for the first user)
def test_lfb_trailing_spaces_stripped(incidents_2023: ReadResult) -> None:
    types = incidents_2023.records["property_type"].dropna()
    assert not types.str.endswith(" ").any()
    assert "Woodland/forest - conifers/softwood" in set(types)
    grounds = incidents_2023.records["station_ground"]
    assert grounds.str.fullmatch(r"[A-Z][A-Z' .-]*[A-Z]").all()
    assert grounds.nunique() == 102


@real_data
@pytest.mark.slow  # reads LFB's 2023 incidents (the module fixture reads them for the first user)
def test_lfb_float_formatted_integers_normalised(incidents_2023: ReadResult) -> None:
    df = incidents_2023.records
    first = df.loc[df["incident_id"] == "038967-19032023"].iloc[0]
    assert (first["first_pump_attendance_seconds"], first["appliances_attending"]) == ("416", "1")
    for column, blanks in (("first_pump_attendance_seconds", 527), ("appliances_attending", 101)):
        present = df[column].dropna()
        assert present.str.fullmatch(r"\d+").all()
        assert df[column].isna().sum() == blanks
    assert df["ward_code"].isna().sum() == 20


@real_data
def test_lfb_2009_incidents_parse_with_iso_call_at(incidents_2009: ReadResult) -> None:
    df = incidents_2009.records
    assert incidents_2009.rows_received == len(df) == 20
    assert df["call_at"].str.fullmatch(r"2009-01-01 00:[0-3]\d:\d{2}").all()
    first = df.iloc[0]
    assert (first["incident_id"], first["call_at"], first["station_ground"]) == (
        "235138081", "2009-01-01 00:00:37", "BATTERSEA"
    )
    assert (first["incident_type"], first["property_type"]) == ("rtc", "Car")
    assert df["incident_id"].str.fullmatch(r"\d+").all()


def test_lfb_incident_numbers_and_dates_written_as_floats(tmp_path: Path) -> None:
    header = list(INCIDENT_SOURCE_COLUMNS)
    row = {c: "" for c in header} | {
        "IncidentNumber": "235138081.0", "DateOfCall": "01 Jan 2009", "TimeOfCall": "00:00:37",
        "IncidentGroup": "Fire", "StopCodeDescription": "Primary Fire",
        "PropertyCategory": "Dwelling", "PropertyType": "House ", "IncidentStationGround": " Soho",
        "NumPumpsAttending": "2.0", "FirstPumpArriving_AttendanceTime": "319.0",
    }
    path = tmp_path / "inc.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerow(row)
    rec = lfb("irs__incidents", path).records.iloc[0]
    assert (rec["incident_id"], rec["call_at"], rec["station_ground"]) == (
        "235138081", "2009-01-01 00:00:37", "SOHO"
    )
    assert (rec["appliances_attending"], rec["first_pump_attendance_seconds"]) == ("2", "319")
    assert (rec["incident_category"], rec["property_category"], rec["is_late_call"]) == (
        "primary_fire", "dwelling", "N"
    )


def test_lfb_unmappable_rows_are_malformed_not_dropped(tmp_path: Path) -> None:
    header = ",".join(INCIDENT_SOURCE_COLUMNS)
    good = "1-01012023,2023-01-01,10:00:00,Fire,Secondary Fire,,Outdoor,Grass ,E05,Soho,300.0,1.0"
    unknown = "2-01012023,2023-01-01,11:00:00,Fire,Mystery Code,,Outdoor,Grass,E05,Soho,,"
    short = "3-01012023,2023-01-01"
    bad_date = "4-01012023,2023-13-45,12:00:00,Fire,Primary Fire,,Dwelling,House,E05,Soho,,"
    path = tmp_path / "inc.csv"
    path.write_text("\n".join([header, good, unknown, short, bad_date]) + "\n")
    result = lfb("irs__incidents", path)
    assert result.rows_received == 4
    assert [m.row for m in result.malformed] == [3, 4]
    assert "Mystery Code" in result.malformed[0].reason
    assert result.malformed[0].raw_text == unknown
    # A date LFB never wrote is passed through for the engine's timestamp cast to reject.
    assert result.records.set_index(ROW_COLUMN).loc[5, "call_at"] == "2023-13-45 12:00:00"


@real_data
@pytest.mark.slow  # reads LFB's 2023 incidents (the module fixture reads them for the first user)
def test_lfb_stations_are_the_distinct_grounds(real_dir: Path, incidents_2023: ReadResult) -> None:
    stations = lfb("reference__stations", real_dir / LFB_2023).records
    assert len(stations) == 102 and stations["station_id"].is_unique
    mill_hill = stations.set_index("station_id").loc["MILL HILL"]
    assert mill_hill["station_name"] == "Mill Hill"
    assert mill_hill[ROW_COLUMN] == 2  # first data row of df_i.csv
    assert set(stations["duty_system"]) == {"wholetime"}
    assert set(stations["valid_from"]) == {"2009-01-01"}
    assert stations.set_index("station_id").loc["OLD KENT ROAD", "station_name"] == "Old Kent Road"
    first_rows = incidents_2023.records.groupby("station_ground")[ROW_COLUMN].min()
    assert stations.set_index("station_id")[ROW_COLUMN].to_dict() == first_rows.to_dict()


# ----------------------------------------------------------------------------- LFB mobilisations


@real_data
def test_lfb_2009_mobilisations(mobilisations_2009: ReadResult,
                                incidents_2009: ReadResult) -> None:
    df = mobilisations_2009.records
    assert mobilisations_2009.rows_received == len(df) == 20
    assert df["mobilisation_id"].is_unique
    assert df["mobilised_at"].str.fullmatch(r"2009-01-01 \d{2}:\d{2}:\d{2}").all()
    assert df["in_attendance_at"].notna().all()
    assert df["mobile_at"].isna().sum() == 3
    first = df.iloc[0]
    assert (first["incident_id"], first["appliance_id"], first["station_id"]) == (
        "235138081", "H271", "BATTERSEA"
    )
    assert (first["mobilised_at"], first["in_attendance_at"]) == (
        "2009-01-01 00:02:27", "2009-01-01 00:07:46"
    )
    assert set(df["incident_id"]) <= set(incidents_2009.records["incident_id"])
    # The file has no call time: the mapping looks it up in the incident file beside it.
    joined = df
    assert joined.loc[0, "call_received_at"] == "2009-01-01 00:00:37"
    assert (joined["call_received_at"] <= joined["mobilised_at"]).all()


# ----------------------------------------------------------------------------- Home Office / ONS


@real_data
def test_fire1001_annual_and_quarterly(real_dir: Path) -> None:
    annual = rd.fire1001_annual(real_dir / FIRE1001 / "FIRE1001_data_annual.csv").records
    quarterly = rd.fire1001_quarterly(real_dir / FIRE1001 / "FIRE1001_data_quarterly.csv").records
    assert len(annual) == len(quarterly) == 6_537
    england = annual.set_index(["financial_year", "fire_type", "location_category"]).loc[
        ("2010/11", "Primary", "England")
    ]
    assert (england["incidents"], england["total_response_time"]) == ("84141", "0.00563227481")
    assert not annual.duplicated(["financial_year", "fire_type", "location_category"]).any()
    assert quarterly["year_ending_quarter"].iloc[0] == "Year ending September 2010"
    assert quarterly["incidents"].iloc[0] == "44167"
    assert annual["location_category"].nunique() == 50


@real_data
def test_frs_categories(real_dir: Path) -> None:
    df = rd.frs_categories(real_dir / FIRE1001 / "FIRE1001_frs_geographical_categories.csv")
    assert len(df.records) == 46 and not df.malformed
    by_name = df.records.set_index("frs_name")
    assert by_name.loc["Greater London"].tolist()[:2] == ["Predominantly Urban", "Metropolitan"]
    assert {"Hampshire", "Isle Of Wight", "Hampshire and Isle Of Wight"} <= set(by_name.index)


@real_data
def test_frs_register(real_dir: Path) -> None:
    df = rd.frs_register(real_dir / STATIONS / "fire-service-eng.tsv").records
    assert len(df) == 45
    assert df["register_id"].iloc[0] == "001"  # zero padding kept
    assert df["start_date"].isna().all() and df["end_date"].isna().all()


@real_data
def test_fire_stations(real_dir: Path) -> None:
    result = rd.fire_stations(real_dir / STATIONS / "fire-stations-dataset.csv")
    df = result.records
    assert len(df) == 1_399 and not result.malformed
    assert df["frs_name"].nunique() == 45
    assert (df["frs_name"] == "London").sum() == 103
    scilly = df[df["frs_name"] == "Isles of Scilly"]
    assert len(scilly) == 5 and set(scilly["frs_code"]) == {"E06000053"}
    west_sussex = df[df["frs_name"] == "West Sussex"]
    assert west_sussex[["easting", "northing", "station_postcode"]].isna().all().all()
    assert any("Not available here" in w for w in result.warnings)
    # Multi-line quoted addresses keep the physical line of the record's start.
    assert df[ROW_COLUMN].is_monotonic_increasing and df[ROW_COLUMN].max() > 1_400
    assert not df["station_postcode"].dropna().str.match(r"\s|.*\s$").any()


@real_data
def test_ons_population_and_lookup(real_dir: Path) -> None:
    pop = rd.ons_population(real_dir / ONS / "ONS_MYE4_population_summary_mid2021.csv").records
    assert len(pop) == 420
    by_code = pop.set_index("code")
    assert by_code.loc["E12000007", "population_mid_2021"] == "8796628"
    assert by_code.loc["E06000062", "name"] == "West Northamptonshire"  # NBSP trimmed
    lookup = rd.ons_lad_fra_lookup(real_dir / ONS / "fire and rescue response times.csv").records
    assert len(lookup) == 317 and lookup["fra19_code"].nunique() == 45
    assert lookup["response_time_three_year_average"].iloc[0] == "1899-12-31T00:08:04Z"


# ----------------------------------------------------------------------------- name-map seed


@real_data
def test_name_map_seed_covers_every_source(real_dir: Path) -> None:
    seed = pd.read_csv(REPO_ROOT / "seeds" / "frs_name_map.csv", dtype=str, keep_default_na=False)
    assert list(seed.columns) == ["frs_code", "register_name", "stations_name", "fire1001_name",
                                  "fire1204_name", "ons_fra_name", "notes"]
    assert len(seed) == 45 and seed["frs_code"].is_unique
    assert seed["frs_code"].str.fullmatch(r"E31000\d{3}|E06000053").all()

    annual = rd.fire1001_annual(real_dir / FIRE1001 / "FIRE1001_data_annual.csv").records
    cats = rd.frs_categories(
        real_dir / FIRE1001 / "FIRE1001_frs_geographical_categories.csv").records
    groupings = {"England", *cats["urban_rural_category"], *cats["metropolitan_category"]}
    frs_names = set(annual["location_category"]) - groupings
    assert len(frs_names) == 44
    assert frs_names == set(seed["fire1001_name"])

    register = rd.frs_register(real_dir / STATIONS / "fire-service-eng.tsv").records
    assert set(register["name"]) == set(seed["register_name"])

    stations = rd.fire_stations(real_dir / STATIONS / "fire-stations-dataset.csv").records
    seed_codes = dict(zip(seed["stations_name"], seed["frs_code"], strict=True))
    station_codes = dict(zip(stations["frs_name"], stations["frs_code"], strict=True))
    assert station_codes == seed_codes  # same 45 names, same E_CODE each

    lookup = rd.ons_lad_fra_lookup(real_dir / ONS / "fire and rescue response times.csv").records
    assert set(lookup["fra19_name"]) == set(seed["ons_fra_name"])


# ----------------------------------------------------------------------------- file-level faults


def test_header_mismatch_raises_schema_error_naming_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "FIRE1001_renamed.csv"
    path.write_text(
        "FINANCIAL_YEAR,FIRE_TYPE,AREA,INCIDENTS,TOTAL_RESPONSE_TIME,CALL_HANDLING_TIME,"
        "CREW_TURNOUT,DRIVE_TIME\n2010/11,Primary,England,1,0.1,0.1,0.1,0.1\n"
    )
    with pytest.raises(SchemaError) as err:
        rd.fire1001_annual(path)
    message = str(err.value)
    assert "FIRE1001_renamed.csv" in message
    assert "LOCATION_CATEGORY" in message and "CREW_TURNOUT_TIME" in message
    assert "FIRE_TYPE" not in message


def test_non_utf8_file_still_decodes(tmp_path: Path) -> None:
    path = tmp_path / "categories.csv"
    path.write_bytes(
        "FRS Name,Urban/Rural category,Met/Non-met category\n"
        "Côte Brigade £,Predominantly Urban,Metropolitan\n".encode("cp1252")
    )
    result = rd.frs_categories(path)
    assert result.encoding == "cp1252" and result.warnings
    assert result.records["frs_name"].tolist() == ["Côte Brigade £"]


def test_real_data_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rd.real_data_dir(str(tmp_path)) == tmp_path
    assert rd.real_data_dir(str(tmp_path / "absent")) is None
    monkeypatch.setenv(rd.ENV_VAR, str(tmp_path))
    assert rd.real_data_dir(None) == tmp_path
    monkeypatch.setenv(rd.ENV_VAR, str(tmp_path / "absent"))
    assert rd.real_data_dir(None) is None
