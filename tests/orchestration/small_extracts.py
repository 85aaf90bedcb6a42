"""Small hand-made extracts shared by the ingestion engine tests: two stations, one ward and an
IRS incident line builder."""

from __future__ import annotations

from pathlib import Path

STATIONS = (
    "station_id,station_name,group_id,group_name,duty_system,watches,lad_code,easting,northing,valid_from,valid_to\n"
    "S01,Alpha,G1,North,wholetime,Red;White;Blue;Green,L1,1,2,2020-01-01,\n"
    "S02,Beta,G1,North,on_call,,L1,1,2,2020-01-01,\n"
)
WARDS = (
    "ward_code,ward_name,lad_code,lad_name,station_id,population,dwellings,non_domestic_properties,vintage_year\n"
    "W1,One,L1,Lad,S01,1000,400,20,2021\n"
)
INC_HEADER = (
    "incident_id,call_at,station_ground,ward_code,incident_category,incident_type,property_category,"
    "property_type,motive,is_confined_to_room,is_late_call,casualties_hospital_serious,"
    "casualties_hospital_slight,casualties_first_aid,casualties_precautionary,fatalities,rescues,"
    "appliances_attending,first_pump_attendance_seconds\n"
)


def inc(i: str, when: str = "2024-03-05 10:00:00", station: str = "S01", ward: str = "W1", **kw: str) -> str:
    values = {
        "category": "primary_fire",
        "type": "fire",
        "prop": "dwelling",
        "serious": "0",
        "appl": "2",
    } | kw
    return (
        f"{i},{when},{station},{ward},{values['category']},{values['type']},{values['prop']},House,accidental,Y,N,"
        f"{values['serious']},0,0,0,0,0,{values['appl']},\n"
    )


def land(root: Path, rel: str, text: str, encoding: str = "utf-8") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
