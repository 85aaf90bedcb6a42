"""The district and ward page and the map page (issue 21, item 2) under AppTest, on a small serving
database shaped like the geography interface (geography_fixtures.py), not the demo: the figures each
role sees, the drill from district to ward to trend, and the map with no, bad and good ward boundaries."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_fixtures import APP_SCRIPT, signed_in  # noqa: E402
from geography_fixtures import (  # noqa: E402
    DISTRICT,
    LARGE_WARD,
    MONTH,
    SMALL_WARD,
    build_serving,
    write_boundaries,
)

ANALYST = ("ann.analyst", "analyst", "ESX")
VIEWER = ("vic.viewer", "viewer", "ESX")
SUPPRESSED = "suppressed: a count of 1 to 7 (disclosure control)"


@pytest.fixture
def geo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    build_serving(data_dir)
    monkeypatch.setenv("GT_DATA_DIR", str(data_dir))
    for name in ("GT_WARD_BOUNDARIES", "GT_WARD_CODE_PROPERTY", "GT_MAP_TILE_URL"):
        monkeypatch.delenv(name, raising=False)
    return data_dir


@pytest.fixture
def open_page(geo_dir: Path) -> Callable[..., AppTest]:
    def run(page: str, user: tuple[str, str, str] = ANALYST) -> AppTest:
        at = signed_in(AppTest.from_file(str(APP_SCRIPT), default_timeout=60), *user)
        at.run()
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
        return at

    return run


def frames(at: AppTest) -> list:
    return [df.value for df in at.dataframe]


def frame_with(at: AppTest, column: str):
    (frame,) = [df for df in frames(at) if column in df.columns]
    return frame


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def array(value) -> list:
    """A plotly array from a figure's JSON: plotly sends numbers as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


# ---- districts and wards ------------------------------------------------------------------------


def test_districts_drill_to_wards_and_a_ward_trend_with_its_spc_limits(open_page):
    at = open_page("districts_and_wards")
    assert at.title[0].value == "Districts and wards"
    districts, wards = frames(at)[:2]
    assert districts.org_unit_name.tolist() == ["Basildon", "Not allocated to a ward"]  # unallocated last
    basildon = districts.set_index("org_unit_name").loc["Basildon"]
    assert (basildon.value, basildon.target, basildon.RAG) == (42.0, 28.0, "Red")
    assert (basildon.value_ytd, basildon.YTD_RAG, basildon.Direction) == (150.0, "Amber", "↘ Worsening")
    # The first district is drilled into: its wards, with SPC signals and no RAG column.
    assert at.selectbox(key="w_place_district").value == DISTRICT
    assert "RAG" not in wards.columns
    by_ward = wards.set_index("org_unit_name")
    assert by_ward.loc["Laindon", "value"] == 21.0 and by_ward.loc["Laindon", "SPC"] == "Above upper limit"
    assert by_ward.loc["Pitsea", "value"] == 3.0  # an analyst sees a small cell whole
    # The chosen ward's trend: its values and the mart's SPC limits.
    at.selectbox(key="w_place_ward").select(LARGE_WARD).run()
    (trend,) = figures(at)
    names = [trace["name"] for trace in trend["data"]]
    assert names == ["Laindon", "Centre line", "Upper limit", "Lower limit"]
    laindon = array(trend["data"][0]["y"])
    assert laindon[-1] == 21.0 and len(laindon) == 13
    assert {"CSV", "XLSX"} <= {b.proto.label for b in at.get("download_button")}


def approve_month(geo_dir: Path) -> None:
    """A viewer reads approved months only: the performance team approves the fixture's month."""
    from orchestration.accounts.config import AuthConfig
    from orchestration.accounts.store import User
    from orchestration.approvals.store import approve, default_path

    approve(default_path(), geo_dir / "serving.duckdb", "ESX", MONTH, User("pat.perf", "performance", "ESX"),
            AuthConfig.from_env().accounts_path)


def test_a_viewer_sees_a_small_ward_cell_suppressed_and_the_rest_whole(open_page, geo_dir):
    approve_month(geo_dir)
    at = open_page("districts_and_wards", VIEWER)
    districts, wards = frames(at)[:2]
    assert districts.set_index("org_unit_name").loc["Basildon", "value"] == 42.0  # districts are not wards
    by_ward = wards.set_index("org_unit_name")
    assert by_ward.loc["Laindon", "value"] == 21.0 and by_ward.loc["Laindon", "Note"] == ""
    pitsea = by_ward.loc["Pitsea"]
    assert pitsea.value is None or pitsea.value != pitsea.value  # blank (None or NaN), not 3
    assert pitsea.numerator is None or pitsea.numerator != pitsea.numerator
    assert pitsea.Note == SUPPRESSED
    # Its trend would read the counts back month by month: every month of it is blank.
    at.selectbox(key="w_place_ward").select(SMALL_WARD).run()
    assert not at.exception
    assert "No values to chart for this ward" in texts(at.info)


def test_a_manager_is_not_offered_the_geography_and_is_refused_it(open_page):
    import navigation
    from data_access import geography, scope

    from orchestration.accounts.store import User

    manager = User("mo.manager", "manager", "ESX-G1")
    titles = [s.title for specs in navigation.pages_for(manager).values() for s in specs]
    assert "Districts and wards" not in titles and "Map" not in titles
    with scope.acting_as(manager), pytest.raises(scope.AccessDenied, match="outside your organisation scope"):
        geography.ward_kpis(DISTRICT, MONTH, "INC_TOTAL")


# ---- map ----------------------------------------------------------------------------------------


def station_trace(figure: dict) -> dict:
    (trace,) = [t for t in figure["data"] if t["type"] == "scattermap"]
    return trace


def test_map_without_boundaries_shows_the_stations_and_says_where_to_put_them(open_page, geo_dir):
    at = open_page("map")
    expected = geo_dir / "reference" / "ward_boundaries.geojson"
    assert f"No ward boundaries supplied ({expected} does not exist)" in texts(at.info)
    (figure,) = figures(at)
    stations = station_trace(figure)
    # Two stations with a grid reference (the third has none and is left off the map).
    assert len(array(stations["lat"])) == 2 and [t["type"] for t in figure["data"]] == ["scattermap"]
    assert figure["layout"]["map"]["style"] == "white-bg" and not figure["layout"]["map"].get("layers")
    # The stations table (with its downloads) gives each station's grid reference and position.
    table = frame_with(at, "station_name").set_index("station_name")
    assert table.loc["Tooting", "easting"] == 527797.0 and round(table.loc["Tooting", "lat"], 4) == 51.4378
    assert {"CSV", "XLSX"} <= {b.proto.label for b in at.get("download_button")}


def test_a_malformed_boundaries_file_is_named_and_the_stations_still_show(open_page, geo_dir):
    path = geo_dir / "reference" / "ward_boundaries.geojson"
    path.parent.mkdir(parents=True)
    path.write_text('{"type": "FeatureCollection", "features": [\n  {"type": "Feature",}\n]}')
    at = open_page("map")
    assert not at.exception
    assert f"{path}: not valid JSON at line 2, column 22: Expecting property name" in texts(at.warning)
    assert len(array(station_trace(figures(at)[0])["lat"])) == 2


def test_boundaries_matching_no_ward_are_named_by_feature(open_page, geo_dir, monkeypatch):
    path = write_boundaries(geo_dir / "elsewhere.geojson", codes=("E05999998", "E05999999"))
    monkeypatch.setenv("GT_WARD_BOUNDARIES", str(path))
    at = open_page("map")
    warning = texts(at.warning)
    assert f"{path}: none of its 2 ward feature(s) matches a ward of the service (the first is feature 0 " in warning
    assert "(E05999998))" in warning
    assert [t["type"] for t in figures(at)[0]["data"]] == ["scattermap"]


def test_wards_are_coloured_by_the_kpi_from_an_ons_style_file_over_configured_tiles(open_page, geo_dir, monkeypatch):
    write_boundaries(geo_dir / "reference" / "ward_boundaries.geojson", property_name="WD23CD")
    monkeypatch.setenv("GT_MAP_TILE_URL", "http://tiles.example.invalid/{z}/{x}/{y}.png")
    at = open_page("map")
    assert not at.warning, texts(at.warning)
    figure = figures(at)[0]
    outline, coloured = [t for t in figure["data"] if t["type"] == "choroplethmap"]
    assert sorted(array(outline["locations"])) == ["E05004001", "E05004002", "E05004003"]
    values = dict(zip(array(coloured["locations"]), array(coloured["z"]), strict=True))
    assert values == {"E05004002": 21.0, "E05004001": 3.0}  # Vange: no value, drawn grey only
    layers = figure["layout"]["map"]["layers"]
    assert layers[0]["source"] == ["http://tiles.example.invalid/{z}/{x}/{y}.png"]
    table = frame_with(at, "ward_code").set_index("org_unit_name")
    assert table.loc["Laindon", "value"] == 21.0


def test_a_viewer_sees_the_small_ward_uncoloured_on_the_map(open_page, geo_dir):
    write_boundaries(geo_dir / "reference" / "ward_boundaries.geojson")
    approve_month(geo_dir)
    at = open_page("map", VIEWER)
    coloured = [t for t in figures(at)[0]["data"] if t["type"] == "choroplethmap"][1]
    assert array(coloured["locations"]) == ["E05004002"]
    assert frame_with(at, "ward_code").set_index("org_unit_name").loc["Pitsea", "Note"] == SUPPRESSED


def test_a_publish_without_station_locations_shows_the_map_without_stations(open_page, geo_dir):
    import duckdb

    with duckdb.connect(str(geo_dir / "serving.duckdb")) as con:  # a serving file published before the map
        con.execute("drop table marts.dim_station_location")
    at = open_page("map")
    assert "No station of this service has a grid reference" in texts(at.info)
    assert figures(at)[0]["data"] == []
