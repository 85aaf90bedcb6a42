"""Golden Thread app: builds the navigation; every page lives in app_pages/."""

import auth
import streamlit as st
from data_access import connection

st.set_page_config(page_title="Golden Thread", page_icon=":material/timeline:", layout="wide")
# Before anything else: no page, and so no figure, runs until someone has signed in.
auth.require_sign_in()

pages = {
    "Reports": [
        st.Page(
            "app_pages/monthly_snapshot.py", title="Monthly snapshot", icon=":material/calendar_month:", default=True
        ),
        st.Page("app_pages/quarterly_review.py", title="Quarterly review", icon=":material/query_stats:"),
        st.Page("app_pages/golden_thread.py", title="Golden thread", icon=":material/account_tree:"),
        st.Page("app_pages/unit_profile.py", title="Station and watch profile", icon=":material/home_work:"),
        st.Page("app_pages/commentary.py", title="Owner commentary", icon=":material/edit_note:"),
    ],
    "Assurance": [
        st.Page("app_pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
        st.Page("app_pages/ingestion.py", title="Data ingestion", icon=":material/input:"),
    ],
}
nav = st.navigation(pages)

with st.sidebar:
    st.caption("Golden Thread — fire and rescue performance and assurance")
    auth.sidebar_identity()
    if connection.is_published():
        info = connection.publish_info()
        st.caption(f"Data as of **{info.get('as_of')}** · published {info.get('published_at'):%Y-%m-%d %H:%M} UTC")
    else:
        st.caption("No data published yet: run `make pipeline`.")

nav.run()
