"""Ingestion reconciliation: every file received, loaded and quarantined, per source system."""

import streamlit as st
import ui
from data_access import connection, ingestion

st.title("Data ingestion")
st.write(
    "Every extract the pipeline received from the service's source systems. For every file, "
    "rows received = rows loaded + rows quarantined; nothing is dropped silently."
)

if not connection.is_published():
    st.warning("Nothing has been published yet. Run `make pipeline` to ingest and publish.")
    st.stop()

summary = ingestion.ingestion_by_system()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Files", f"{int(summary.files.sum()):,}")
c2.metric("Rows received", f"{int(summary.rows_received.sum()):,}")
c3.metric("Rows quarantined", f"{int(summary.rows_quarantined.sum()):,}")
c4.metric("Files refused", f"{int(summary.files_refused.sum()):,}")
if not summary.reconciles.all():
    st.error("Some files do not reconcile: investigate before using the data.")

st.subheader("By source system")
ui.show_table(summary, "ingestion_by_system", key="ingestion_systems")

system = st.selectbox("Source system", ["(all)", *summary.system.tolist()])
chosen = None if system == "(all)" else system

st.subheader("Files")
ui.show_table(ingestion.ingestion_files(chosen), "ingestion_files", key="ingestion_files")

st.subheader("Quarantine")
reasons = ingestion.quarantine_reasons(chosen)
if reasons.empty:
    st.success("No rows quarantined.")
else:
    ui.show_table(reasons, "quarantine_reasons", key="ingestion_reasons")
    ui.show_table(ingestion.quarantine_sample(chosen), "quarantine_sample", key="ingestion_quarantine")
