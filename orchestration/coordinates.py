"""British National Grid (OSGB36, EPSG:27700) eastings and northings to WGS84 latitude and longitude
(EPSG:4326), the coordinates web maps and GeoJSON use. Used by the app's map (station points) and by
the simulator (its synthetic ward boundaries).

pyproj runs offline with the datum shift it ships (a seven-parameter Helmert transformation, good to
a few metres across Great Britain); Ordnance Survey's OSTN15 grid, which would give centimetres, is a
separate download this project does not make. A few metres is far below what a map of stations and
wards can show.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

BRITISH_NATIONAL_GRID = "EPSG:27700"
WGS84 = "EPSG:4326"


@functools.cache
def _transformer():
    from pyproj import Transformer  # imported late: only the map and the demo boundaries need it

    # always_xy: (easting, northing) in, (longitude, latitude) out, whatever order the CRS declares.
    return Transformer.from_crs(BRITISH_NATIONAL_GRID, WGS84, always_xy=True)


def bng_to_wgs84(
    eastings: Sequence[float | None], northings: Sequence[float | None]
) -> tuple[list[float | None], list[float | None]]:
    """Latitudes and longitudes (degrees) for grid references in metres; a missing or non-finite
    easting or northing gives None for both (a station with no location is left off the map)."""
    known = [
        i for i, (e, n) in enumerate(zip(eastings, northings, strict=True))
        if _finite(e) and _finite(n)
    ]
    lats: list[float | None] = [None] * len(eastings)
    lons: list[float | None] = [None] * len(eastings)
    if known:
        xs, ys = _transformer().transform([float(eastings[i]) for i in known], [float(northings[i]) for i in known])
        for i, lon, lat in zip(known, xs, ys, strict=True):
            lons[i], lats[i] = float(lon), float(lat)
    return lats, lons


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
