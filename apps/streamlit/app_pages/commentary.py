"""Commentary: a KPI owner explains an off-target KPI for a month and records the action taken.

Rows are appended to the app's own SQLite store (never to a DuckDB file); the latest per KPI, unit
and month shows at once in the monthly snapshot, the quarterly review and the board packs. The author is
the signed-in person; only the KPI's owner (within scope) or the performance team may write.
"""

import commentary_store as store
import formatting as fmt
import streamlit as st
import ui
from data_access import commentary as writer
from data_access import monthly, scope

ui.page_header(
    "Owner commentary",
    "Explain why a KPI is off target and what is being done. Entries are never edited or deleted: "
    "a new entry supersedes the last, and the history stays visible.",
)

left, right = st.columns(2)
service = ui.select_service(left)
month = ui.select_month(service, right)
unit = ui.select_unit(service, month)
ui.sync_url(service=service, month=month.isoformat(), unit=unit)
st.markdown(f"##### {ui.breadcrumb(unit, month)} · {fmt.month_label(month)}")

kpis = monthly.monthly_kpis(unit, month)
off_target = kpis[kpis.rag_status.isin(fmt.OFF_TARGET)]
if off_target.empty:
    st.success("No KPI is off target for this unit and month: there is nothing that needs commentary.")
else:
    kpi_code = ui.select_kpi(off_target[["kpi_code", "kpi_name"]], "Off-target KPI", state_key="commentary_kpi")
    row = off_target.set_index("kpi_code").loc[kpi_code].to_dict() | {"kpi_code": kpi_code}
    tile, about = st.columns([1, 2])
    ui.kpi_metric(row, tile)
    about.markdown(
        f"**Owner:** {row['owner_role']}  \n"
        f"**Direction vs same month last year:** {fmt.direction_label(row['direction_of_travel'])}  \n"
        f"**SPC:** {fmt.spc_label(row['spc_signal'])}  \n"
        f"**Formula:** {fmt.formula_text(row)}"
    )

    try:
        author = scope.require_commentary(kpi_code, unit, month).name
    except scope.AccessDenied as refusal:
        author = None
        st.info(f"You can read this commentary but not add to it: {refusal}", icon=":material/lock:")
    submitted = False
    if author:
        with st.form("commentary_form", clear_on_submit=True):
            st.caption(f"Written as **{author}** (the signed-in person).")
            commentary = st.text_area(
                "Commentary",
                key="commentary_text",
                placeholder="Why is the KPI off target? Is the change real (see SPC) or noise?",
            )
            action = st.text_area("Action", key="commentary_action", placeholder="What will be done to improve it?")
            a1, a2 = st.columns(2)
            action_owner = a1.text_input("Action owner", key="commentary_action_owner", value=row["owner_role"])
            due = a2.date_input("Action due date", key="commentary_due", value=None, min_value=month)
            submitted = st.form_submit_button("Save commentary", type="primary", icon=":material/save:")

    if submitted:
        try:
            commentary_id = writer.write_commentary(
                service_id=service,
                kpi_code=kpi_code,
                org_unit_id=unit,
                period_month=month,
                commentary=commentary,
                action=action,
                action_owner=action_owner,
                action_due_date=due,
            )
        except (store.CommentaryError, scope.AccessDenied) as error:
            st.error(f"Not saved: {error}.")
        else:
            st.success(f"Saved as entry {commentary_id}. It now shows in the monthly snapshot and quarterly review.")

    st.subheader("History for this KPI, unit and month")
    history = store.history(service, kpi_code, unit, month, month)
    if history.empty:
        st.caption("No commentary yet.")
    else:
        st.caption("Newest first; the reports show the first row.")
        ui.show_table(history, f"commentary_{kpi_code}_{unit}_{month:%Y-%m}", key="commentary_history")

st.subheader("All commentary for this service")
everything = store.history(service)
if everything.empty:
    st.caption("No commentary has been written for this service yet.")
else:
    ui.show_table(everything, f"commentary_{service}", key="commentary_all")
