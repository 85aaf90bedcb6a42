"""The map's inputs: the ward boundaries GeoJSON reader (bad input named by file and feature, never
raised), the grid-reference conversion, the settings that point at them, and the demo's synthetic
boundaries."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from orchestration.coordinates import bng_to_wgs84
from orchestration.settings import Settings
from orchestration.ward_boundaries import read_ward_boundaries

SQUARE = [[[0.45, 51.57], [0.47, 51.57], [0.47, 51.59], [0.45, 51.59], [0.45, 51.57]]]


def feature(properties: dict, geometry: dict | None = None) -> dict:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": SQUARE},
    }


def write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "ward_boundaries.geojson"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


# ---- the coordinate conversion -------------------------------------------------------------------


def test_a_station_grid_reference_converts_to_latitude_and_longitude_within_5_metres():
    # Tooting fire station, 91 Trinity Road, SW17 7SQ: LFB's record of an incident at the station
    # (../shared/data/real/lfb_incidents_2023_sample, incident 077916-01062023) gives it as
    # E 527797, N 172580 and, in WGS84, 51.4378160591 N, 0.1627213182 W. pyproj gives
    # 51.4378102 N, 0.1627578 W: 0.65 m south and 2.53 m west, 2.6 m apart (the Helmert datum
    # shift pyproj uses offline is good to a few metres; OSTN15 would give centimetres).
    (lat,), (lon,) = bng_to_wgs84([527797.0], [172580.0])
    north_m = (lat - 51.4378160591) * 111_250  # metres per degree of latitude at 51.4° N
    east_m = (lon - -0.1627213182) * 111_320 * math.cos(math.radians(lat))
    assert math.hypot(north_m, east_m) < 5.0


def test_a_station_without_a_grid_reference_has_no_position():
    lats, lons = bng_to_wgs84([570500.0, None, float("nan")], [189000.0, 1.0, 2.0])
    assert lats[1:] == [None, None] and lons[1:] == [None, None]
    assert 51.5 < lats[0] < 51.6 and 0.4 < lons[0] < 0.5  # Basildon


# ---- the GeoJSON reader --------------------------------------------------------------------------


def test_no_file_is_not_a_problem_but_says_it_is_absent(tmp_path):
    result = read_ward_boundaries(tmp_path / "absent.geojson", {"E05000001"})
    assert not result.exists and result.features == {} and result.problems == []


def test_wards_are_keyed_by_the_configured_or_an_ons_code_property(tmp_path):
    path = write(tmp_path, collection(
        feature({"ward_code": "E05000001", "ward_name": "Pitsea"}),
        feature({"WD23CD": "E05000002", "WD23NM": "Laindon"}),
    ))  # fmt: skip
    result = read_ward_boundaries(path, {"E05000001", "E05000002"})
    assert result.problems == []
    assert list(result.features) == ["E05000001", "E05000002"]
    assert result.features["E05000002"]["id"] == "E05000002"
    assert result.features["E05000002"]["properties"]["ward_name"] == "Laindon"
    custom = write(tmp_path, collection(feature({"code": "E05000001"})))
    assert list(read_ward_boundaries(custom, {"E05000001"}, code_property="code").features) == ["E05000001"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "FeatureCollection", "features": [', "not valid JSON at line 1, column 44: Expecting value"),
        ('{"type": "Feature"}', "expected a GeoJSON FeatureCollection with a list of features, found 'Feature'"),
        ("[1, 2]", "expected a GeoJSON FeatureCollection with a list of features, found 'list'"),
        ('{"type": "FeatureCollection", "features": []}', "the FeatureCollection has no features"),
    ],
)
def test_a_file_that_cannot_be_read_gives_one_problem_naming_it(tmp_path, content, message):
    path = write(tmp_path, content)
    result = read_ward_boundaries(path, {"E05000001"})
    assert result.features == {}
    assert result.problems == [f"{path}: {message}" + ("" if message.endswith(".") else ".")]


def test_not_utf8_is_named(tmp_path):
    path = tmp_path / "ward_boundaries.geojson"
    path.write_bytes(b'{"type": "FeatureCollection", "name": "Br\xe9", "features": []}')
    expected = f"{path}: not UTF-8 text (at byte offset 41); save the GeoJSON as UTF-8."
    assert read_ward_boundaries(path).problems == [expected]


def test_each_feature_that_cannot_be_drawn_is_named_and_the_rest_are_drawn(tmp_path):
    path = write(tmp_path, collection(
        feature({"ward_code": "E05000001", "ward_name": "Pitsea"}),
        feature({"name": "Somewhere"}),
        feature({"ward_code": "E05000002"}, {"type": "Point", "coordinates": [0.4, 51.5]}),
        feature({"ward_code": "E05000003"}, {"type": "Polygon", "coordinates": [[[570500, 189000], [1, 2],
                                                                                  [3, 4], [570500, 189000]]]}),
        feature({"ward_code": "E05000004"}, {"type": "Polygon", "coordinates": [[["a", "b"]] * 4]}),
        feature({"ward_code": "E05000001"}),
        "not a feature",
    ))  # fmt: skip
    result = read_ward_boundaries(path, {f"E0500000{k}" for k in range(1, 5)})
    assert list(result.features) == ["E05000001"]
    assert result.problems == [
        f"{path}: feature 1 (Somewhere): no ward code in property 'ward_code' (nor an ONS-style WDyyCD property); "
        "set GT_WARD_CODE_PROPERTY to the property that holds it.",
        f"{path}: feature 2 (E05000002): geometry type 'Point' is not a Polygon or MultiPolygon.",
        f"{path}: feature 3 (E05000003): position (570500, 189000) is not longitude/latitude; GeoJSON uses WGS84 "
        "(ONS publishes its boundaries in both British National Grid and WGS84: use the latter).",
        f"{path}: feature 4 (E05000004): a position that is not a pair of numbers: ['a', 'b'].",
        f"{path}: feature 5 (E05000001): ward E05000001 appears twice; the first is drawn.",
        f"{path}: and 1 more problem(s).",
    ]


def test_features_of_unknown_wards_are_counted_and_none_matching_is_one_clear_problem(tmp_path):
    path = write(tmp_path, collection(feature({"ward_code": "E05000001"}), feature({"ward_code": "E05999999"})))
    partly = read_ward_boundaries(path, {"E05000001"})
    assert list(partly.features) == ["E05000001"]
    assert partly.problems == [
        f"{path}: 1 feature(s) match no ward of the service and are not drawn: feature 1 (E05999999)."
    ]
    none = read_ward_boundaries(path, {"E05000007"})
    assert none.features == {}
    assert none.problems == [
        f"{path}: none of its 2 ward feature(s) matches a ward of the service (the first is feature 0 (E05000001)); "
        "check the codes are the current ONS ward codes the ward reference data uses."
    ]


# ---- settings and the demo's boundaries ----------------------------------------------------------


def test_the_map_settings_default_to_the_data_folder_no_tiles_and_ward_code(tmp_path):
    settings = Settings.from_env({"GT_DATA_DIR": str(tmp_path)})
    assert settings.ward_boundaries_file == tmp_path.resolve() / "reference" / "ward_boundaries.geojson"
    assert settings.ward_code_property == "ward_code" and settings.map_tile_url is None
    configured = Settings.from_env({
        "GT_DATA_DIR": str(tmp_path), "GT_WARD_BOUNDARIES": str(tmp_path / "wards.json"),
        "GT_WARD_CODE_PROPERTY": "WD24CD", "GT_MAP_TILE_URL": "https://tiles.example/{z}/{x}/{y}.png",
    })  # fmt: skip
    assert configured.ward_boundaries_file == (tmp_path / "wards.json").resolve()
    assert configured.ward_code_property == "WD24CD"
    assert configured.map_tile_url == "https://tiles.example/{z}/{x}/{y}.png"


def test_the_demo_writes_synthetic_boundaries_every_simulated_ward_reads_back(tmp_path):
    from orchestration.simulator import SimulatorConfig
    from orchestration.simulator.boundaries import NAME, write_ward_boundaries
    from orchestration.simulator.config import rng_for
    from orchestration.simulator.org import build_org

    config = SimulatorConfig(services=1)
    path = tmp_path / "reference" / "ward_boundaries.geojson"
    drawn = write_ward_boundaries(config, path)
    spec = config.selected_services()[0]
    org = build_org(spec, config.period(), rng_for(config.seed, spec, "reference"))
    codes = {str(c) for c in org.ward_code}
    result = read_ward_boundaries(path, codes)
    assert result.problems == [] and set(result.features) == codes and drawn == len(codes)
    assert "not real" in json.loads(path.read_text())["name"] == NAME
