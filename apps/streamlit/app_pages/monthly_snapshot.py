"""Monthly snapshot: where did performance miss target this month, and what is the owner doing about it.

Exceptions first, then every KPI grouped by plan priority, then a drill down service → group →
station → watch. All figures come from marts.rpt_kpi_monthly; commentary from the app's store.
"""

from functools import partial

import approval_panel
import auth
import board_pack
import commentary_store as store
import formatting as fmt
import plotly.graph_objects as go
import streamlit as st
import ui
from data_access import monthly, reference

ui.page_header("Monthly snapshot", "Where did performance miss target this month, and what is being done about it?")

left, right = st.columns(2)
service = ui.select_service(left)
month = ui.select_month(service, right)
unit = ui.select_unit(service, month)
ui.sync_url(service=service, month=month.isoformat(), unit=unit)

kpis = monthly.monthly_kpis(unit, month)
st.markdown(f"##### {ui.breadcrumb(unit, month)} · {fmt.month_label(month)}")
approval_panel.show(service, month)
if kpis.empty:
    st.info("No KPI is reported for this unit in this month.")
    st.stop()

comments = store.latest(service, None, unit, month, month)
kpis = kpis.merge(
    comments[["kpi_code", "author", "commentary", "action", "action_owner", "action_due_date", "created_at"]],
    on="kpi_code",
    how="left",
)

st.download_button(
    "Board pack (HTML)",
    auth.audited_export(
        partial(board_pack.monthly_pack, service, month, unit), f"monthly_board_pack_{unit}_{month:%Y-%m}", "html"
    ),
    file_name=f"monthly_board_pack_{unit}_{month:%Y-%m}.html",
    mime="text/html",
    on_click="ignore",
    icon=":material/description:",
    help="A self-contained HTML report of this page (exceptions, commentary, every KPI) that prints cleanly.",
)

ui.rag_summary(kpis)

# ---- exceptions -----------------------------------------------------------------------------
st.subheader("Exceptions: KPIs off target")
exceptions = kpis[kpis.rag_status.isin(fmt.OFF_TARGET)].copy()
exceptions["_order"] = exceptions.rag_status.map({"red": 0, "amber": 1})
exceptions = exceptions.sort_values(["_order", "priority_id", "display_order"])
if exceptions.empty:
    st.success("Every KPI with a target is on target this month.")
for row in exceptions.to_dict("records"):
    with st.container(border=True):
        tile, notes = st.columns([1, 2])
        ui.kpi_metric(row, tile)
        notes.markdown(
            f"**Owner:** {row['owner_role']}  \n"
            f"**Direction vs {fmt.month_label(month.replace(year=month.year - 1))}:** "
            f"{fmt.direction_label(row['direction_of_travel'])} "
            f"(was {fmt.fmt_value(row['value_same_month_last_year'], row['decimals'], row['unit'])})  \n"
            f"**Year to date:** {fmt.fmt_value(row['value_ytd'], row['decimals'], row['unit'])} "
            f"against {fmt.fmt_value(row['target_ytd'], row['decimals'], row['unit'])} "
            f"({fmt.rag_md(row['rag_status_ytd'])}; "
            f"last year {fmt.fmt_value(row['value_prior_ytd'], row['decimals'], row['unit'])})  \n"
            f"**SPC:** {fmt.spc_label(row['spc_signal'])}"
        )
        if fmt.is_missing(row.get("commentary")):
            notes.warning("No owner commentary yet for this month.", icon=":material/edit_note:")
        else:
            action = (
                f"  \n**Action:** {row['action']} — {row['action_owner'] or 'owner not named'}"
                + (f", due {row['action_due_date']}" if not fmt.is_missing(row.get("action_due_date")) else "")
                if not fmt.is_missing(row.get("action"))
                else ""
            )
            notes.info(f"**Commentary** ({row['author']}, {row['created_at']:%Y-%m-%d}): {row['commentary']}{action}")
        if notes.button("Write commentary", icon=":material/edit:", key=f"write_{row['kpi_code']}"):
            st.session_state["commentary_kpi"] = row["kpi_code"]
            st.switch_page("app_pages/commentary.py")

# ---- every KPI ------------------------------------------------------------------------------
st.subheader("All KPIs by plan priority")
table = fmt.add_display_columns(
    kpis,
    {
        "Value": "value",
        "Target": "target",
        "Variance": "variance",
        "Same month last year": "value_same_month_last_year",
        "YTD": "value_ytd",
        "Prior YTD": "value_prior_ytd",
    },
)
table["Trend"] = table.history.map(fmt.sparkline_values)
columns = [
    "kpi_name",
    "Value",
    "Target",
    "RAG",
    "Variance",
    "Direction",
    "Same month last year",
    "Trend",
    "SPC",
    "YTD",
    "Prior YTD",
    "owner_role",
    "commentary",
]
config = {
    "kpi_name": st.column_config.TextColumn("KPI", pinned=True, width="large"),
    "Trend": st.column_config.LineChartColumn("13 months", width="small"),
    "owner_role": st.column_config.TextColumn("Owner"),
    "commentary": st.column_config.TextColumn("Commentary", width="large"),
    "Variance": st.column_config.TextColumn("Variance", help="Value minus target (from the mart)."),
    "Direction": st.column_config.TextColumn("Direction", help="Against the same month last year, by polarity."),
}
for (priority_id, priority_name), group in table.groupby(["priority_id", "priority_name"], sort=True):
    st.markdown(f"**{priority_id}. {priority_name}**")
    st.dataframe(
        ui.styled(group[columns]),
        hide_index=True,
        width="stretch",
        column_config=config,
        height=ui.full_height(len(group)),
        key=f"monthly_priority_{priority_id}",
    )
export_columns = [
    "priority_id",
    "priority_name",
    "kpi_code",
    "kpi_name",
    "org_unit_id",
    "org_unit_name",
    "period_month",
    "unit",
    "polarity",
    "numerator",
    "denominator",
    "value",
    "target",
    "rag_status",
    "variance",
    "value_same_month_last_year",
    "direction_of_travel",
    "value_ytd",
    "target_ytd",
    "rag_status_ytd",
    "value_prior_ytd",
    "spc_signal",
    "owner_role",
    "commentary",
    "action",
    "action_owner",
    "action_due_date",
]
ui.download_table(kpis[export_columns], f"monthly_snapshot_{unit}_{month:%Y-%m}", key="monthly_all")
ui.kpi_definitions(kpis, key="monthly")

# ---- drill down -----------------------------------------------------------------------------
st.subheader("Drill down")
kpi_code = ui.select_kpi(kpis[["kpi_code", "kpi_name"]], "KPI to compare across units")
kpi = kpis.set_index("kpi_code").loc[kpi_code]
st.caption(fmt.kpi_help(kpi.to_dict()))

children = monthly.child_unit_kpis(unit, month, kpi_code)
path = reference.unit_path(unit, month)
if len(path) > 1:
    parent = path.iloc[-2]
    st.button(
        f"Up to {parent.org_unit_name}",
        icon=":material/arrow_upward:",
        on_click=ui.drill_to,
        args=(parent.org_unit_id,),
    )
if children.empty:
    st.caption("This KPI is not reported below this unit.")
else:
    shown = fmt.add_display_columns(children, {"Value": "value", "Target": "target", "Variance": "variance"})
    child_ids = children.org_unit_id.tolist()

    def _drill(ids=child_ids, key=f"drill_{unit}_{kpi_code}_{month}") -> None:
        rows = st.session_state[key].selection.rows
        if rows:
            ui.drill_to(ids[rows[0]])

    st.caption("Select a row to drill down to that unit.")
    st.dataframe(
        ui.styled(shown[["org_unit_name", "org_level", "Value", "Target", "RAG", "Variance", "Direction", "SPC"]]),
        hide_index=True,
        width="stretch",
        on_select=_drill,
        selection_mode="single-row",
        key=f"drill_{unit}_{kpi_code}_{month}",
        column_config={"org_unit_name": "Unit", "org_level": "Level"},
    )
    ui.download_table(
        children[
            [
                "org_unit_id",
                "org_unit_name",
                "org_level",
                "kpi_code",
                "value",
                "target",
                "rag_status",
                "variance",
                "direction_of_travel",
                "spc_signal",
            ]
        ],
        f"{kpi_code}_{unit}_{month:%Y-%m}_children",
        key="monthly_children",
    )

history = monthly.kpi_history(unit, kpi_code)
if not history.empty:
    fig = go.Figure()
    fig.add_scatter(x=history.period_month, y=history.value, mode="lines+markers", name="Value")
    fig.add_scatter(x=history.period_month, y=history.target, mode="lines", name="Target", line={"dash": "dash"})
    fig.add_scatter(
        x=history.period_month,
        y=history.spc_centre_line,
        mode="lines",
        name="SPC centre",
        line={"color": "grey", "width": 1},
    )
    fig.add_scatter(
        x=history.period_month,
        y=history.spc_upper_limit,
        mode="lines",
        name="SPC limits",
        line={"color": "grey", "dash": "dot", "width": 1},
    )
    fig.add_scatter(
        x=history.period_month,
        y=history.spc_lower_limit,
        mode="lines",
        showlegend=False,
        line={"color": "grey", "dash": "dot", "width": 1},
    )
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=f"{kpi['kpi_name']} — {path.iloc[-1].org_unit_name if len(path) else unit}",
        legend={"orientation": "h"},
    )
    st.plotly_chart(fig, width="stretch")
