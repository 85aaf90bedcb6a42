"""Synthetic ward boundaries for the demo services, so the map page has wards to colour on `make run`.

They are not real: each station's wards are drawn as equal wedges of a disc around the station
(its radius under half the distance to the nearest other station, so grounds do not overlap). The
ward codes and names are the simulated ward reference data's; the coordinates are WGS84 (GeoJSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from orchestration.coordinates import bng_to_wgs84
from orchestration.simulator.config import SimulatorConfig, rng_for
from orchestration.simulator.org import build_org

NAME = "Synthetic ward boundaries (Golden Thread demo data: wedges around each station, not real boundaries)"
MAX_RADIUS_M, MIN_RADIUS_M = 4000.0, 600.0
ARC_STEPS = 8  # points along each wedge's arc


def ward_boundaries(config: SimulatorConfig) -> dict:
    """A GeoJSON FeatureCollection with one Polygon per simulated ward, property ``ward_code``."""
    period = config.period()
    features: list[dict] = []
    for spec in config.selected_services():
        # The same generator the extracts use, so codes and stations are the ones the pipeline loads.
        org = build_org(spec, period, rng_for(config.seed, spec, "reference"))
        names = org.wards["ward_name"]
        distance_m = org.distance_km * 1000.0
        np.fill_diagonal(distance_m, np.inf)
        for station in range(org.n_stations):
            wards = np.flatnonzero(org.ward_station == station)
            nearest = distance_m[station].min() if org.n_stations > 1 else 2 * MAX_RADIUS_M
            radius = float(np.clip(0.45 * nearest, MIN_RADIUS_M, MAX_RADIUS_M))
            east, north = org.station_xy[station]
            for j, ward in enumerate(wards):
                angles = np.linspace(2 * np.pi * j / len(wards), 2 * np.pi * (j + 1) / len(wards), ARC_STEPS)
                xs = [east, *(east + radius * np.cos(angles)), east]
                ys = [north, *(north + radius * np.sin(angles)), north]
                lats, lons = bng_to_wgs84(xs, ys)
                ring = [[round(lon, 6), round(lat, 6)] for lat, lon in zip(lats, lons, strict=True)]
                features.append({
                    "type": "Feature",
                    "properties": {
                        "ward_code": str(org.ward_code[ward]),
                        "ward_name": str(names[ward]),
                        "service_id": spec.service_id,
                        "synthetic": True,
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                })
    return {"type": "FeatureCollection", "name": NAME, "features": features}


def write_ward_boundaries(config: SimulatorConfig, path: Path) -> int:
    """Write the synthetic boundaries to ``path``; returns the number of wards drawn."""
    collection = ward_boundaries(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)
    return len(collection["features"])
