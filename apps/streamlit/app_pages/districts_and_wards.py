"""Districts and wards: one KPI across the service's local authority districts, drilled to a district's
wards and to one ward's trend. From marts.rpt_kpi_monthly's geography rows (service → district → ward);
at ward level counts are small, so the SPC signal rather than RAG says whether a change is real.
"""

import formatting as fmt
import plotly.graph_objects as go
import streamlit as st
import ui
from data_access import connection, geography
from data_access import funnel as funnel_access
from funnel_chart import kpi_funnel_chart

ui.page_header(
    "Districts and wards",
    "One KPI across the service's districts and their wards: where is performance different, and is it real?",
)

left, middle, right = st.columns(3)
service = ui.select_service(left)
month = ui.select_month(service, middle)
kpis = geography.place_kpis(service)
if kpis.empty:
    st.info(
        "No KPI is reported by district and ward in the published data: the KPIs about places appear here once "
        "the ward reference data and the pipeline have built the geography rows."
    )
    st.stop()
kpi_code = ui.select_kpi(kpis, "KPI", right, state_key="place_kpi")
ui.sync_url(service=service, month=month.isoformat())

districts = geography.district_kpis(service, month, kpi_code)
if districts.empty:
    st.info(f"No district figures for this KPI in {fmt.month_label(month)}.")
    st.stop()
kpi = districts.iloc[0].to_dict()
decimals = 0 if fmt.is_missing(kpi.get("decimals")) else int(kpi["decimals"])
number = f"%.{decimals}f"
st.caption(fmt.kpi_help(kpi))


def _note(rows):
    """The reason a value is blank (suppressed for a viewer, not recorded), else empty."""
    return rows["value_note"].fillna("") if "value_note" in rows.columns else ""


st.subheader(f"Districts · {fmt.month_label(month)}")
table = districts.assign(
    RAG=districts.rag_status.map(fmt.rag_label),
    Direction=districts.direction_of_travel.map(fmt.direction_label),
    YTD_RAG=districts.rag_status_ytd.map(fmt.rag_label),
    Note=_note(districts),
)
st.dataframe(
    ui.styled(
        table[["org_unit_name", "value", "target", "RAG", "value_ytd", "target_ytd", "YTD_RAG", "Direction", "Note"]]
    ),
    hide_index=True,
    width="stretch",
    height=ui.full_height(len(table)),
    column_config={
        "org_unit_name": st.column_config.TextColumn("District", pinned=True),
        "value": st.column_config.NumberColumn("Value", format=number),
        "target": st.column_config.NumberColumn("Target", format=number),
        "value_ytd": st.column_config.NumberColumn("YTD", format=number, help="Financial year to date."),
        "target_ytd": st.column_config.NumberColumn("YTD target", format=number),
        "YTD_RAG": st.column_config.TextColumn("YTD RAG"),
        "Direction": st.column_config.TextColumn(
            "Direction", help="Against the same month last year, by the KPI's polarity."
        ),
    },
)
ui.download_table(districts, f"districts_{kpi_code}_{service}_{month:%Y-%m}", key="districts")

# ---- fair comparison: the funnel of districts or wards -------------------------------------------
st.subheader("Fair comparison")
# A publish made before funnels existed has no funnel tables: the rest of the page still works.
period = funnel_access.quarter_of(month) if connection.table_exists("marts", "rpt_kpi_funnel") else None
offered = funnel_access.funnel_kpis(service, *period) if period else None
row = offered[offered.kpi_code == kpi_code] if offered is not None else None
levels = [lv for lv in (row.org_levels.iloc[0] if row is not None and len(row) else []) if lv in ("district", "ward")]
if not levels:
    st.caption("No funnel for this KPI: funnels compare rate and percentage KPIs across places of different size.")
else:
    chosen = row.iloc[0]
    level = st.radio(
        "Compare", levels, index=len(levels) - 1, horizontal=True, format_func=lambda lv: f"{lv}s",
        key="place_funnel_level",
    )
    st.caption(
        f"Each {level}'s rate over the twelve months {fmt.month_label(chosen.period_start_month)} to "
        f"{fmt.month_label(chosen.period_end_month)} against its size, with 95% and 99.8% control limits around "
        f"the rate of all {level}s together: a small ward with two fires does not top the table by chance alone. "
        "Those outside the limits are named under the chart."
    )
    funnel = funnel_access.kpi_funnel(service, *period, kpi_code, level)
    kpi_funnel_chart(funnel.points, funnel.curves, chosen, key="place_funnel")

# ---- a district's wards -----------------------------------------------------------------------
names = dict(zip(districts.org_unit_id, districts.org_unit_name, strict=True))
district = st.selectbox(
    "Drill into district", list(names), format_func=lambda d: names.get(d, d), key="w_place_district"
)
wards = geography.ward_kpis(district, month, kpi_code)
st.subheader(f"Wards of {names.get(district, district)}")
if wards.empty:
    st.info("No ward figures for this district in this month.")
    st.stop()
ward_table = wards.assign(SPC=wards.spc_signal.map(fmt.spc_label), Note=_note(wards))
st.dataframe(
    ward_table[["org_unit_name", "numerator", "denominator", "value", "value_ytd", "SPC", "Note"]],
    hide_index=True,
    width="stretch",
    height=ui.full_height(len(ward_table)),
    column_config={
        "org_unit_name": st.column_config.TextColumn("Ward", pinned=True),
        "numerator": st.column_config.NumberColumn("Count", format="%.0f"),
        "denominator": st.column_config.NumberColumn("Denominator", format="%.0f"),
        "value": st.column_config.NumberColumn("Value", format=number),
        "value_ytd": st.column_config.NumberColumn("YTD", format=number, help="Financial year to date."),
        "SPC": st.column_config.TextColumn(
            "SPC signal", help="Ward counts are small: the control chart, not RAG, says whether a change is real."
        ),
    },
)
st.caption("At ward level there is no RAG: counts are small, so the SPC signal carries the assessment.")
ui.download_table(wards, f"wards_{kpi_code}_{district}_{month:%Y-%m}", key="wards")

# ---- one ward's trend -------------------------------------------------------------------------
ward_names = dict(zip(wards.org_unit_id, wards.org_unit_name, strict=True))
ward = st.selectbox("Ward trend", list(ward_names), format_func=lambda w: ward_names.get(w, w), key="w_place_ward")
trend = geography.ward_trend(ward, kpi_code, month)
if trend.value.notna().sum() == 0:
    st.info("No values to chart for this ward (none reported, or every month suppressed).")
    st.stop()
fig = go.Figure()
fig.add_trace(go.Scatter(x=trend.period_month, y=trend.value, mode="lines+markers", name=ward_names.get(ward, ward)))
limits = {"spc_centre_line": "Centre line", "spc_upper_limit": "Upper limit", "spc_lower_limit": "Lower limit"}
for column, label in limits.items():
    if trend[column].notna().any():
        fig.add_trace(
            go.Scatter(
                x=trend.period_month,
                y=trend[column],
                mode="lines",
                name=label,
                line={"dash": "solid" if column == "spc_centre_line" else "dash", "width": 1, "color": "#777777"},
            )
        )
fig.update_layout(
    height=340,
    margin={"l": 10, "r": 10, "t": 10, "b": 10},
    legend={"orientation": "h"},
    yaxis_title=kpi.get("kpi_name"),
)
st.plotly_chart(fig, width="stretch")
