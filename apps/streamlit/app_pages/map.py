"""Map: the service's stations where they stand and, where the service supplies ward boundaries (GeoJSON),
its wards coloured by a KPI for a month. Works offline: the base map is a plain background unless a tile
URL is configured (GT_MAP_TILE_URL), and a missing or faulty boundaries file leaves the stations shown.
"""

import math

import formatting as fmt
import plotly.graph_objects as go
import streamlit as st
import ui
from data_access import geography

ui.page_header("Map", "Where the stations stand, and how a KPI varies across the wards they serve.")

left, middle, right = st.columns(3)
service = ui.select_service(left)
month = ui.select_month(service, middle)
kpis = geography.place_kpis(service)
kpi_code = ui.select_kpi(kpis, "KPI", right, state_key="place_kpi") if not kpis.empty else None
ui.sync_url(service=service, month=month.isoformat())

settings = geography.map_settings()
stations = geography.station_locations(service, month)
boundaries = geography.ward_boundaries(service, settings)
if not boundaries.exists:
    st.info(
        f"No ward boundaries supplied ({boundaries.path} does not exist), so the map shows the stations only. "
        "Put the service's ward boundaries there as GeoJSON, or name the file in GT_WARD_BOUNDARIES.",
        icon=":material/map:",
    )
for problem in boundaries.problems:
    st.warning(problem, icon=":material/warning:")

values = (
    geography.ward_values(service, month, kpi_code)
    if boundaries.features and kpi_code is not None
    else None
)
fig = go.Figure()
points = [(lat, lon) for lat, lon in zip(stations.lat, stations.lon, strict=True)]
if boundaries.features:
    collection = boundaries.feature_collection()
    # Every supplied ward drawn in grey first, so a ward without a value (or suppressed) still shows.
    codes = list(boundaries.features)
    fig.add_trace(
        go.Choroplethmap(
            geojson=collection,
            locations=codes,
            z=[0] * len(codes),
            featureidkey="id",
            colorscale=[[0, "#e0e0e0"], [1, "#e0e0e0"]],
            showscale=False,
            marker={"opacity": 0.5, "line": {"width": 0.5, "color": "#9e9e9e"}},
            hovertext=[boundaries.features[c]["properties"].get("ward_name") or c for c in codes],
            hoverinfo="text",
            name="Wards",
        )
    )
    for feature in boundaries.features.values():
        rings = feature["geometry"]["coordinates"]
        rings = rings if feature["geometry"]["type"] == "MultiPolygon" else [rings]
        points.extend((lat, lon) for polygon in rings for ring in polygon[:1] for lon, lat, *_ in ring)
    shown = values[values.value.notna() & values.ward_code.isin(codes)] if values is not None else None
    if shown is not None and not shown.empty:
        decimals = 0 if fmt.is_missing(shown.decimals.iloc[0]) else int(shown.decimals.iloc[0])
        fig.add_trace(
            go.Choroplethmap(
                geojson=collection,
                locations=shown.ward_code,
                z=shown.value.astype(float),
                featureidkey="id",
                colorscale="YlOrRd" if str(shown.polarity.iloc[0]) == "down" else "Blues",
                marker={"opacity": 0.7, "line": {"width": 0.5, "color": "#616161"}},
                colorbar={"title": {"text": shown.kpi_name.iloc[0]}, "thickness": 12},
                hovertext=[
                    f"{r.org_unit_name}: {fmt.fmt_value(r.value, decimals, r.unit)}" for r in shown.itertuples()
                ],
                hoverinfo="text",
                name=shown.kpi_name.iloc[0],
            )
        )
    elif kpi_code is not None:
        st.info(f"No ward values to colour for this KPI in {fmt.month_label(month)}.")

if not stations.empty:
    fig.add_trace(
        go.Scattermap(
            lat=stations.lat,
            lon=stations.lon,
            mode="markers",
            marker={"size": 9, "color": "#b71c1c"},
            hovertext=[
                f"{r.station_name} ({r.duty_system or 'duty system not recorded'})" for r in stations.itertuples()
            ],
            hoverinfo="text",
            name="Stations",
        )
    )
else:
    st.info("No station of this service has a grid reference in the station reference data.")

if points:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    centre = {"lat": (min(lats) + max(lats)) / 2, "lon": (min(lons) + max(lons)) / 2}
    # Web-map zoom from the extent: a 256-pixel tile spans 360 / 2**zoom degrees of longitude and the
    # chart is a few tiles across (+0.5); a degree of latitude is drawn 1 / cos(latitude) taller.
    span = max(max(lons) - min(lons), (max(lats) - min(lats)) / math.cos(math.radians(centre["lat"])), 0.01)
    zoom = max(4.0, min(13.0, math.log2(360 / span) + 0.5))
else:
    centre, zoom = {"lat": 53.0, "lon": -1.5}, 5.0  # England
layers = (
    [{"below": "traces", "sourcetype": "raster", "source": [settings.map_tile_url], "sourceattribution": ""}]
    if settings.map_tile_url
    else []
)
fig.update_layout(
    map={"style": "white-bg", "center": centre, "zoom": zoom, "layers": layers},
    height=600,
    margin={"l": 0, "r": 0, "t": 0, "b": 0},
    legend={"orientation": "h"},
)
st.plotly_chart(fig, width="stretch")
st.caption(
    f"{len(stations)} station(s)"
    + (f", {len(boundaries.features)} ward boundary(ies) from {boundaries.path.name}" if boundaries.features else "")
    + (". Base map: GT_MAP_TILE_URL's tiles." if settings.map_tile_url else ". No base map set (GT_MAP_TILE_URL).")
)

if values is not None and not values.empty:
    st.subheader(f"Wards · {fmt.month_label(month)}")
    table = values.assign(SPC=values.spc_signal.map(fmt.spc_label), Note=values.value_note.fillna(""))
    st.dataframe(
        table[["org_unit_name", "ward_code", "value", "value_ytd", "SPC", "Note"]],
        hide_index=True,
        width="stretch",
        column_config={
            "org_unit_name": st.column_config.TextColumn("Ward", pinned=True),
            "ward_code": st.column_config.TextColumn("Code"),
            "value": st.column_config.NumberColumn("Value"),
            "value_ytd": st.column_config.NumberColumn("YTD"),
        },
    )
    ui.download_table(values, f"ward_map_{kpi_code}_{service}_{month:%Y-%m}", key="ward_map")

with st.expander(f"Stations on the map ({len(stations)})"):
    ui.show_table(
        stations[["station_name", "station_id", "group_name", "duty_system", "easting", "northing", "lat", "lon"]],
        f"stations_{service}_{month:%Y-%m}",
        key="map_stations",
        column_config={
            "station_name": st.column_config.TextColumn("Station", pinned=True),
            "easting": st.column_config.NumberColumn("Easting (m)", format="%.0f"),
            "northing": st.column_config.NumberColumn("Northing (m)", format="%.0f"),
            "lat": st.column_config.NumberColumn("Latitude", format="%.5f"),
            "lon": st.column_config.NumberColumn("Longitude", format="%.5f"),
        },
    )
