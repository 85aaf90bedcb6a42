"""Reads the ward boundaries a service supplies for the map: a GeoJSON FeatureCollection of polygons in
WGS84 longitude/latitude, one feature per ward, each naming its ward code in a property.

Bad input never raises: every feature that cannot be drawn is left out with a problem naming the file,
the feature (its position and, where it has one, its code or name) and why, and a file that cannot be
read at all gives one such problem and no features. The map then shows the stations alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CODE_PROPERTY = "ward_code"
# ONS boundary files name the code after the boundary year: WD23CD, WD24CD, ...
ONS_CODE_PROPERTY = re.compile(r"^WD\d{2}CD$")
ONS_NAME_PROPERTY = re.compile(r"^WD\d{2}NM$")
AREA_TYPES = ("Polygon", "MultiPolygon")
# Problems listed one by one before the rest are counted.
MAX_LISTED = 5


@dataclass
class WardBoundaries:
    """What the map can draw: ``features`` keyed by ward code (each feature's ``id`` is its code, for
    plotly's ``featureidkey``), and the problems met, each naming the file and the feature."""

    path: Path
    exists: bool
    features: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def feature_collection(self) -> dict:
        return {"type": "FeatureCollection", "features": list(self.features.values())}


def read_ward_boundaries(
    path: Path, known_codes: Iterable[str] | None = None, code_property: str = DEFAULT_CODE_PROPERTY
) -> WardBoundaries:
    """The drawable ward features of ``path``. ``known_codes`` (the service's wards) keeps only the
    features that match one; a file none of whose features matches says so."""
    path = Path(path)
    result = WardBoundaries(path=path, exists=path.is_file())
    if not result.exists:
        return result
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        result.problems.append(f"{path}: not UTF-8 text (at byte offset {exc.start}); save the GeoJSON as UTF-8.")
        return result
    except json.JSONDecodeError as exc:
        result.problems.append(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.")
        return result
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
        doc.get("features"), list
    ):
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        result.problems.append(
            f"{path}: expected a GeoJSON FeatureCollection with a list of features, found {kind!r}."
        )
        return result

    known = set(known_codes) if known_codes is not None else None
    unmatched: list[str] = []
    problems: list[str] = []
    for position, feature in enumerate(doc["features"]):
        label = f"feature {position}"
        if not isinstance(feature, dict):
            problems.append(f"{label}: not a GeoJSON Feature object")
            continue
        properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        code_key = _code_key(properties, code_property)
        code = _text(properties.get(code_key)) if code_key else None
        name = _text(properties.get(_name_key(properties)))
        label += f" ({code or name})" if code or name else ""
        if code is None:
            problems.append(
                f"{label}: no ward code in property {code_property!r} (nor an ONS-style WDyyCD property); "
                "set GT_WARD_CODE_PROPERTY to the property that holds it"
            )
            continue
        geometry_problem = _geometry_problem(feature.get("geometry"))
        if geometry_problem:
            problems.append(f"{label}: {geometry_problem}")
            continue
        if known is not None and code not in known:
            unmatched.append(f"{label}")
            continue
        if code in result.features:
            problems.append(f"{label}: ward {code} appears twice; the first is drawn")
            continue
        result.features[code] = {
            "type": "Feature",
            "id": code,
            "properties": {"ward_code": code, "ward_name": name},
            "geometry": feature["geometry"],
        }

    total = len(doc["features"])
    if total == 0:
        problems.append("the FeatureCollection has no features")
    if unmatched and not result.features:
        problems.append(
            f"none of its {len(unmatched)} ward feature(s) matches a ward of the service "
            f"(the first is {unmatched[0]}); check the codes are the current ONS ward codes "
            "the ward reference data uses"
        )
    elif unmatched:
        problems.append(
            f"{len(unmatched)} feature(s) match no ward of the service and are not drawn: "
            + ", ".join(unmatched[:MAX_LISTED]) + (", ..." if len(unmatched) > MAX_LISTED else "")
        )
    listed = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        listed.append(f"and {len(problems) - MAX_LISTED} more problem(s)")
    result.problems.extend(f"{path}: {p}." for p in listed)
    return result


def _code_key(properties: dict, code_property: str) -> str | None:
    if _text(properties.get(code_property)) is not None:
        return code_property
    return next((k for k in sorted(properties) if ONS_CODE_PROPERTY.match(k)), None)


def _name_key(properties: dict) -> str | None:
    for key in ("ward_name", "name"):
        if key in properties:
            return key
    return next((k for k in sorted(properties) if ONS_NAME_PROPERTY.match(k)), None)


def _text(value) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _geometry_problem(geometry) -> str | None:
    """Why a geometry cannot be drawn as a ward in longitude/latitude, or None if it can."""
    if not isinstance(geometry, dict):
        return "no geometry"
    kind = geometry.get("type")
    if kind not in AREA_TYPES:
        return f"geometry type {kind!r} is not a Polygon or MultiPolygon"
    polygons = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list) or not polygons:
        return "its coordinates are empty"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "a polygon without rings"
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                return "a ring with fewer than four positions"
            for point in ring:
                if (
                    not isinstance(point, list)
                    or len(point) < 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point[:2])
                ):
                    return f"a position that is not a pair of numbers: {point!r}"
                lon, lat = point[0], point[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    return (
                        f"position ({lon}, {lat}) is not longitude/latitude; GeoJSON uses WGS84 "
                        "(ONS publishes its boundaries in both British National Grid and WGS84: use the latter)"
                    )
    return None
