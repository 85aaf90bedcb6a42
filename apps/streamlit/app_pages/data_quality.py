"""Data quality, for auditors: is every figure built from accurate, complete data, and how?

Reconciliation of every extract received (received = loaded + quarantined), the quarantined rows
with their reasons, a drill-through from any published KPI value to the observations and source
records it was computed from (and those excluded, with the reason), and the quality checks.
"""

import auth
import formatting as fmt
import streamlit as st
import ui
from data_access import drill_through, ingestion, monthly, people, quality, reference

ui.page_header("Data quality", "For auditors: reconciliation, quarantine, and lineage from a KPI value to its records.")

tabs = st.tabs(["KPI drill-through", "Reconciliation", "Quarantine", "Quality checks", "Sign-ins and exports"])

# ---- KPI value → observations → source records ----------------------------------------------
with tabs[0]:
    left, right = st.columns(2)
    service = ui.select_service(left)
    month = ui.select_month(service, right)
    unit = ui.select_unit(service, month)
    ui.sync_url(service=service, month=month.isoformat(), unit=unit)
    st.markdown(f"##### {ui.breadcrumb(unit, month)} · {fmt.month_label(month)}")
    kpis = monthly.monthly_kpis(unit, month, history_months=1)
    if kpis.empty:
        st.info("No KPI is reported for this unit in this month.")
    else:
        kpi_code = ui.select_kpi(kpis[["kpi_code", "kpi_name"]], "KPI value to trace", state_key="dq_kpi")
        row = kpis.set_index("kpi_code").loc[kpi_code].to_dict() | {"kpi_code": kpi_code}
        tile, facts = st.columns([1, 2])
        ui.kpi_metric(row, tile, with_chart=False)
        facts.markdown(
            f"**Formula:** {fmt.formula_text(row)}  \n"
            f"**Published numerator:** {fmt.fmt_number(row['numerator'], 2)} · "
            f"**denominator:** {fmt.fmt_number(row['denominator'], 2)}"
            + ("" if fmt.is_missing(row.get("denominator_vintage")) else f" ({row['denominator_vintage']})")
            + "  \n**Source systems:** "
            + f"{reference.kpi_catalogue().set_index('kpi_code').loc[kpi_code, 'source_systems']}"
        )
        if "dq_status" in row or "dq_note" in row:
            status, note = row.get("dq_status"), row.get("dq_note")
            if not fmt.is_missing(status) and str(status) not in ("pass", "ok"):
                facts.warning(f"Data-quality flag: {status}" + ("" if fmt.is_missing(note) else f" — {note}"))

        check = drill_through.kpi_lineage_check(kpi_code, unit, month)
        st.markdown("**1. Roll-up: the value is the sum of lowest-grain numerators over the sum of denominators**")
        if not check.empty:
            c = check.iloc[0]
            ok = bool(c.numerator_matches) and bool(c.denominator_matches)
            (st.success if ok else st.error)(
                f"{int(c.observations or 0)} observation(s) under this unit: numerator "
                f"{fmt.fmt_number(c.observed_numerator, 2)}, denominator {fmt.fmt_number(c.observed_denominator, 2)} — "
                + ("matches the published figures." if ok else "does NOT match the published figures.")
            )
        observations = drill_through.kpi_observations(kpi_code, unit, month)
        ui.show_table(observations, f"observations_{kpi_code}_{unit}_{month:%Y-%m}", key="dq_observations")

        source = drill_through.kpi_record_source(kpi_code)
        st.markdown(f"**2. Source records** {'(' + source + ')' if source else ''}")
        records = drill_through.kpi_source_records(kpi_code, unit, month)
        if not records:
            st.caption(
                "This KPI is built from monthly aggregates (workforce, HR, competence, planning or data-quality "
                "results), not from individual records: the observations above are its lowest grain."
            )
        else:
            included = records["included"]
            st.caption(
                f"{len(included):,} record(s) counted" + (" (first 5,000 shown)" if len(included) >= 5000 else "")
            )
            ui.show_table(included, f"records_{kpi_code}_{unit}_{month:%Y-%m}", key="dq_included")
            if "excluded" in records:
                excluded = records["excluded"]
                st.markdown("**3. Records excluded, with the reason** (Home Office response-time rules)")
                if excluded.empty:
                    st.success("No records were excluded.")
                else:
                    reasons = (
                        excluded.exclusion_reason.value_counts()
                        .rename_axis("exclusion_reason")
                        .reset_index(name="records")
                    )
                    st.dataframe(reasons, hide_index=True)
                    ui.show_table(excluded, f"excluded_{kpi_code}_{unit}_{month:%Y-%m}", key="dq_excluded")

# ---- reconciliation ---------------------------------------------------------------------------
with tabs[1]:
    summary = ingestion.ingestion_by_system()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Files", f"{int(summary.files.sum()):,}", border=True)
    c2.metric("Rows received", f"{int(summary.rows_received.sum()):,}", border=True)
    c3.metric("Rows quarantined", f"{int(summary.rows_quarantined.sum()):,}", border=True)
    c4.metric("Files refused", f"{int(summary.files_refused.sum()):,}", border=True)
    if summary.reconciles.all():
        st.success("Every file reconciles: rows received = rows loaded + rows quarantined.")
    else:
        st.error("Some files do not reconcile: investigate before relying on the figures.")
    st.markdown("**By source system**")
    ui.show_table(summary, "ingestion_by_system", key="dq_systems")
    system = st.selectbox("Source system", ["(all)", *summary.system.tolist()], key="dq_system")
    st.markdown("**By file**")
    files = ingestion.ingestion_files(None if system == "(all)" else system)
    ui.show_table(files, f"ingestion_files_{system.strip('()')}", key="dq_files")

# ---- quarantine -------------------------------------------------------------------------------
with tabs[2]:
    system = st.session_state.get("dq_system", "(all)")
    chosen = None if system == "(all)" else system
    st.caption(f"Source system: {system} (change it on the Reconciliation tab).")
    reasons = ingestion.quarantine_reasons(chosen)
    if reasons.empty:
        st.success("No rows quarantined.")
    else:
        ui.show_table(reasons, "quarantine_reasons", key="dq_reasons")
        st.markdown("**Samples** (the raw row as received and why it was held back)")
        ui.show_table(ingestion.quarantine_sample(chosen), "quarantine_sample", key="dq_quarantine")

# ---- quality checks ---------------------------------------------------------------------------
with tabs[3]:
    st.markdown("**KPI values marked by the pre-publish checks**")
    if not quality.kpi_dq_columns():
        st.caption("This publish does not carry data-quality marks on KPI values (rpt_kpi_monthly has no dq_status).")
    else:
        service = st.session_state.get("service") or reference.services().service_id.iloc[0]
        month = st.session_state.get("month") or reference.default_month(service)
        flags = quality.kpi_dq_flags(service, month)
        if flags.empty:
            st.success(f"No KPI value for {service} in {fmt.month_label(month)} carries a warning.")
        else:
            ui.show_table(flags, f"kpi_dq_flags_{service}", key="dq_flags")

    st.markdown("**Latest status per source system and suite** (Great Expectations on each batch and on the marts)")
    status = quality.dq_runs_by_target()
    if status.empty:
        st.caption("This publish does not include audit.dq_runs yet.")
    else:
        ui.show_table(status, "dq_status_by_target", key="dq_status_by_target")
        target = st.selectbox("History of", status.target.drop_duplicates().tolist(), key="w_dq_history")
        ui.show_table(quality.dq_run_history(target), "dq_run_history", key="dq_run_history")

    st.markdown("**Failing expectations in the latest run of each suite**, with samples of failing keys and values")
    failing = quality.dq_failing_expectations()
    if failing.empty:
        st.success("Every expectation passed in the latest run of every suite.")
    else:
        ui.show_table(failing, "dq_failing_expectations", key="dq_failing")

    st.markdown("**Flagged records** (each with the expectation it failed and the file line it came from)")
    flagged = quality.dq_flagged_records()
    if flagged.empty:
        st.success("No record is flagged.")
    else:
        ui.show_table(flagged, "dq_flagged_records", key="dq_flagged_records")

    service = st.session_state.get("service") or reference.services().service_id.iloc[0]
    month = st.session_state.get("month") or reference.default_month(service)
    st.markdown(
        f"**DQ_ACCURACY_PCT by station**, {service}, {fmt.month_label(month)}: "
        "which stations' data entry needs attention"
    )
    accuracy = quality.dq_accuracy_by_station(service, month)
    if accuracy.empty:
        st.caption("No station-level accuracy figures for this service and month.")
    else:
        ui.show_table(accuracy, f"dq_accuracy_{service}", key="dq_accuracy")

    docs = quality.data_docs_index()
    if docs is not None:
        st.caption(f"Great Expectations Data Docs (a by-product; offline they render unstyled): {docs}")

    st.markdown("**All data-quality check results**")
    results = quality.dq_results()
    if results is None:
        st.caption("This publish does not include audit.dq_results yet.")
    elif results.empty:
        st.caption("No check results recorded.")
    else:
        ui.show_table(results, "dq_results", key="dq_results")

# ---- people: sign-ins, failures, lock-outs and exports ----------------------------------------
with tabs[4]:
    user = auth.current_user()
    if user is None or user.role not in people.AUDIT_READERS:
        readers = " and ".join(people.AUDIT_READERS)
        st.info(f"The sign-in and export trail names people: only the {readers} roles see it.")
    else:
        st.caption("Every sign-in, failed attempt, lock-out, expired session and export, newest first (latest 500).")
        ui.show_table(people.audit_events(), "sign_ins_and_exports", key="audit_people")
