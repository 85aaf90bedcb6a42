"""Station and watch profile: every KPI for one unit against its targets, beside its parent (group or
station) and the service. From marts.rpt_kpi_monthly.
"""

import formatting as fmt
import plotly.express as px
import streamlit as st
import ui
from data_access import monthly

ui.page_header(
    "Station and watch profile", "Every KPI for one station or watch against its targets, its group and the service."
)

left, right = st.columns(2)
service = ui.select_service(left)
month = ui.select_month(service, right)
unit = ui.select_unit(service, month)
ui.sync_url(service=service, month=month.isoformat(), unit=unit)
st.markdown(f"##### {ui.breadcrumb(unit, month)} · {fmt.month_label(month)}")
if unit == service:
    st.info("Choose a group, station or watch above to profile it against its parent and the service.")

profile = monthly.unit_profile(unit, month)
if profile.empty:
    st.info("No KPI is reported for this unit in this month.")
    st.stop()
history = monthly.monthly_kpis(unit, month)[["kpi_code", "history"]]
profile = profile.merge(history, on="kpi_code", how="left")
parent_name = profile.parent_name.dropna().iloc[0] if profile.parent_name.notna().any() else "Parent"

for (priority_id, priority_name), rows in profile.groupby(["priority_id", "priority_name"], sort=True):
    st.markdown(f"**{priority_id}. {priority_name}**")
    columns = st.columns(4)
    for i, row in enumerate(rows.to_dict("records")):
        ui.kpi_metric(row, columns[i % 4])

st.subheader(f"Against {parent_name} and the service")
table = fmt.add_display_columns(
    profile,
    {
        "Value": "value",
        "Target": "target",
        "Variance": "variance",
        "Parent": "parent_value",
        "Service": "service_value",
        "YTD": "value_ytd",
        "YTD target": "target_ytd",
    },
)
st.dataframe(
    ui.styled(
        table[
            [
                "kpi_name",
                "Value",
                "Target",
                "RAG",
                "Variance",
                "Parent",
                "Service",
                "YTD",
                "YTD target",
                "Direction",
                "SPC",
                "target_source",
            ]
        ]
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "kpi_name": st.column_config.TextColumn("KPI", pinned=True),
        "Parent": st.column_config.TextColumn(parent_name, help="The unit's parent in this month's hierarchy."),
        "target_source": st.column_config.TextColumn("Target basis", help="How the unit's target was set."),
    },
)
ui.download_table(
    profile[
        [
            "kpi_code",
            "kpi_name",
            "org_unit_id",
            "org_unit_name",
            "period_month",
            "unit",
            "polarity",
            "value",
            "target",
            "rag_status",
            "variance",
            "parent_name",
            "parent_value",
            "service_value",
            "value_ytd",
            "target_ytd",
            "rag_status_ytd",
            "value_prior_ytd",
            "direction_of_travel",
            "spc_signal",
            "target_source",
        ]
    ],
    f"unit_profile_{unit}_{month:%Y-%m}",
    key="unit_profile",
)

st.subheader("Trend against parent and service")
kpi_code = ui.select_kpi(profile[["kpi_code", "kpi_name"]], "KPI", state_key="profile_kpi")
trend = monthly.unit_trend(unit, kpi_code, month)
if not trend.empty:
    fig = px.line(
        trend,
        x="period_month",
        y="value",
        color="org_unit_name",
        markers=True,
        labels={
            "period_month": "Month",
            "value": profile.set_index("kpi_code").loc[kpi_code, "kpi_name"],
            "org_unit_name": "",
        },
    )
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h"})
    st.plotly_chart(fig, width="stretch")
    st.caption(fmt.kpi_help(profile.set_index("kpi_code").loc[kpi_code].to_dict()))
