"""People: the accounts (who has which role and unit) and the audit trail of sign-ins and exports,
for the administrator. Accounts are changed with the ``users`` command (docs/signing_in.md)."""

import auth
import pandas as pd
import streamlit as st
import ui
from data_access import people

from orchestration.accounts.config import AuthConfig
from orchestration.accounts.store import list_users

st.title("People and audit trail")
st.caption("Add, disable or change accounts with `python -m orchestration.cli users ...` (docs/signing_in.md).")
events = people.audit_events()  # refuses a role without access to people before anything shows
accounts = pd.DataFrame(
    [
        {"user_name": u.name, "role": u.role, "org_unit_id": u.org_unit_id, "is_disabled": u.is_disabled,
         "locked_until": u.locked_until}
        for u in list_users(AuthConfig.from_env().accounts_path)
    ],
    columns=["user_name", "role", "org_unit_id", "is_disabled", "locked_until"],
)
st.subheader("Accounts")
ui.show_table(accounts, "accounts", key="people_accounts")
st.subheader("Sign-ins, failures, lock-outs and exports")
st.caption(f"Newest first (latest 500). You are signed in as {auth.current_user().name}.")
ui.show_table(events, "sign_ins_and_exports", key="people_events")
