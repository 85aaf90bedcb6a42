"""Ingestion reconciliation: every file received, loaded and quarantined, per source system."""

import data_access as data
import streamlit as st

st.title("Data ingestion")
st.write(
    "Every extract the pipeline received from the service's source systems. For every file, "
    "rows received = rows loaded + rows quarantined; nothing is dropped silently."
)

if not data.is_published():
    st.warning("Nothing has been published yet. Run `make pipeline` to ingest and publish.")
    st.stop()

summary = data.ingestion_by_system()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Files", f"{int(summary.files.sum()):,}")
c2.metric("Rows received", f"{int(summary.rows_received.sum()):,}")
c3.metric("Rows quarantined", f"{int(summary.rows_quarantined.sum()):,}")
c4.metric("Files rejected", f"{int(summary.files_rejected.sum()):,}")
if not summary.reconciles.all():
    st.error("Some files do not reconcile: investigate before using the data.")

st.subheader("By source system")
st.dataframe(summary, hide_index=True, width="stretch")

system = st.selectbox("Source system", ["(all)", *summary.system.tolist()])
chosen = None if system == "(all)" else system

st.subheader("Files")
st.dataframe(data.ingestion_files(chosen), hide_index=True, width="stretch")

st.subheader("Quarantine")
reasons = data.quarantine_reasons(chosen)
if reasons.empty:
    st.success("No rows quarantined.")
else:
    st.dataframe(reasons, hide_index=True, width="stretch")
    st.dataframe(data.quarantine_sample(chosen), hide_index=True, width="stretch")
