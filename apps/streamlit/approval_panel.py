"""The approval section of the monthly page: whether the service's month is a draft, approved (which
version, by whom) or restated (each change since), and for the performance team the button that
approves it (again)."""

from __future__ import annotations

import datetime as dt

import auth
import streamlit as st
from data_access import approvals, scope
from data_access.connection import serving_path

from orchestration.accounts.config import AuthConfig
from orchestration.approvals import restatements, store


def approval_line(service_id: str, month: dt.date, status: str, approval: store.Approval | None) -> str:
    """One sentence saying which approved version the figures are (the board pack prints it too). A viewer
    reads the approved figures themselves, so for a viewer a restatement is news, not a warning."""
    where = f"{service_id} {month:%Y-%m}"
    if approval is None:
        return f"{where}: draft, not yet approved by the performance team."
    said = (
        f"{where}: approved version {approval.version}, by {approval.approved_by} on "
        f"{approval.approved_at:%Y-%m-%d %H:%M} UTC (fingerprint {approval.fingerprint[:12]})"
    )
    if status == "restated" and scope.reads_approved_only():
        return f"{said}: these are the approved figures; later changes await the performance team's approval."
    if status == "restated":
        return f"{said}; restated since: these figures differ from the approved ones and await approval again."
    return said + "."


def show(service_id: str, month: dt.date) -> None:
    try:
        status, approval = approvals.month_status(service_id, month)
    except store.ApprovalError as exc:
        st.error(f"Approvals cannot be read: {exc}", icon=":material/error:")
        return
    line = approval_line(service_id, month, status, approval)
    if scope.reads_approved_only():  # a viewer reads the approved figures: nothing to compare or approve
        (st.info if approval is None else st.success)(line, icon=":material/verified:")
        return
    {"draft": st.info, "approved": st.success, "restated": st.warning}[status](line, icon=":material/verified:")
    if status == "restated":
        changes = approvals.restatement_changes(service_id, month)
        restatements.record_restatements(
            store.default_path(),
            restatements.find_restatements(store.default_path(), serving_path(), service_id),
            AuthConfig.from_env().accounts_path,
        )
        st.caption(f"{len(changes)} changes since version {approval.version} was approved:")
        st.dataframe(changes, hide_index=True, width="stretch", key=f"restated_{service_id}_{month}")
    user = auth.current_user()
    if user is None or user.role != store.APPROVER_ROLE or status == "approved":
        return
    label = f"Approve {month:%B %Y} for {service_id}" + (f" again (version {approval.version + 1})" if approval else "")
    if st.button(label, icon=":material/task_alt:", key=f"approve_{service_id}_{month}"):
        try:
            made, _ = store.approve(
                store.default_path(), serving_path(), service_id, month, user, AuthConfig.from_env().accounts_path
            )
        except store.ApprovalError as exc:
            st.error(str(exc))
            return
        st.toast(f"Approved {service_id} {month:%Y-%m}: version {made.version}")
        st.rerun()
