"""Golden thread: each plan priority → the Annual Plan activities and KPIs that serve it → their
owners, latest values, targets and status, with the gaps (a priority no KPI or activity measures,
a KPI without a target) called out. From marts.rpt_golden_thread.
"""

import formatting as fmt
import plotly.express as px
import streamlit as st
import ui
from data_access import annual_plan, reference

ui.page_header(
    "Golden thread",
    "From the Fire and Rescue Plan's priorities down to the activities and KPIs that deliver and measure them.",
)
service = ui.select_service(st.columns(2)[0])
ui.sync_url(service=service)

thread = annual_plan.golden_thread(service)
if thread.empty:
    st.info("No golden-thread rows for this service.")
    st.stop()

GAP_TEXT = {
    "priority_without_kpi": "No KPI measures this priority",
    "priority_without_activity": "No Annual Plan activity delivers this priority",
    "kpi_without_target": "KPI has no target",
    "kpi_without_owner": "KPI has no owner",
    "activity_without_owner": "Activity has no owner",
}
thread["gap"] = thread.gap_type.map(lambda g: None if fmt.is_missing(g) else GAP_TEXT.get(g, str(g).replace("_", " ")))
thread["Latest"] = [
    fmt.fmt_value(v, d, u) for v, d, u in zip(thread.latest_value, thread.decimals, thread.unit, strict=True)
]
thread["Target"] = [
    fmt.fmt_value(v, d, u) for v, d, u in zip(thread.latest_target, thread.decimals, thread.unit, strict=True)
]
thread["Status"] = [
    fmt.rag_label(s) if t == "kpi" else fmt.status_label(s)
    for s, t in zip(thread.status, thread.element_type, strict=True)
]

gaps = thread[thread.is_gap.fillna(False)]
g1, g2, g3, g4 = st.columns(4)
g1.metric("Priorities", thread.priority_id.nunique(), border=True)
g2.metric("Activities", int((thread.element_type == "activity").sum()), border=True)
g3.metric("KPIs", int((thread.element_type == "kpi").sum()), border=True)
g4.metric("Gaps", len(gaps), border=True, help="Priorities without a KPI or activity, KPIs without a target.")
if not gaps.empty:
    st.error(
        "**Gaps in the thread**  \n"
        + "  \n".join(
            f"- Priority {r.priority_id} ({r.priority_name}): {r.gap}"
            + ("" if fmt.is_missing(r.element_id) else f" — {r.element_name} ({r.element_id})")
            for r in gaps.itertuples()
        )
    )

# Sunburst: priority → activities/KPIs → element, coloured by status; gaps in red.
chart = thread.copy()
chart["priority"] = chart.priority_id.astype(str) + ". " + chart.priority_name
chart["branch"] = chart.element_type.map({"activity": "Activities", "kpi": "KPIs", "gap": "Gaps"})
chart["leaf"] = chart.element_id.fillna(chart.gap).fillna("—")  # ids: short and unique, names repeat
chart["colour"] = chart.status.fillna(chart.gap_type.map(lambda g: None if fmt.is_missing(g) else "gap")).fillna("none")
colours = {
    **fmt.RAG_COLOURS,
    "on_track": "#2e7d32",
    "complete": "#1b5e20",
    "at_risk": "#ef8f00",
    "off_track": "#c62828",
    "not_started": "#90a4ae",
    "deferred": "#b0bec5",
    "context": "#cfd8dc",
    "gap": "#b71c1c",
    "none": "#eceff1",
    "(?)": "#eceff1",
}
fig = px.sunburst(chart, path=["priority", "branch", "leaf"], color="colour", color_discrete_map=colours)
fig.update_layout(height=560, margin={"l": 0, "r": 0, "t": 0, "b": 0})
st.plotly_chart(fig, width="stretch")

for (priority_id, priority_name), rows in thread.groupby(["priority_id", "priority_name"], sort=True):
    gap_rows = rows[rows.is_gap.fillna(False)]
    label = f"{priority_id}. {priority_name}" + (f" — ⚠ {len(gap_rows)} gap(s)" if len(gap_rows) else "")
    with st.expander(label, expanded=bool(len(gap_rows))):
        for gap in gap_rows.itertuples():
            st.error(
                gap.gap + ("" if fmt.is_missing(gap.element_id) else f": {gap.element_name} ({gap.element_id})"),
                icon=":material/link_off:",
            )
        activities = rows[rows.element_type == "activity"]
        kpis = rows[rows.element_type == "kpi"]
        left, right = st.columns(2)
        left.markdown("**Annual Plan activities**")
        if activities.empty:
            left.caption("None.")
        else:
            left.dataframe(
                activities[["element_id", "element_name", "owner_role", "Status", "latest_period"]],
                hide_index=True,
                width="stretch",
                column_config={
                    "element_id": "Activity",
                    "element_name": "Title",
                    "owner_role": "Owner",
                    "latest_period": st.column_config.DateColumn("Updated"),
                },
            )
        right.markdown("**KPIs**")
        if kpis.empty:
            right.caption("None.")
        else:
            right.dataframe(
                ui.styled(
                    kpis[["element_name", "owner_role", "Latest", "Target", "Status", "latest_period", "gap"]].rename(
                        columns={"Status": "RAG"}
                    )
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "element_name": "KPI",
                    "owner_role": "Owner",
                    "latest_period": st.column_config.DateColumn("Period", format="MMM YYYY"),
                    "RAG": "Status",
                    "gap": "Gap",
                },
            )

ui.download_table(
    thread.drop(columns=["Latest", "Target", "Status", "decimals"]), f"golden_thread_{service}", key="golden_thread"
)
ui.kpi_definitions(reference.kpi_catalogue(), key="golden_thread")
