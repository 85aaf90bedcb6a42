"""Golden Thread app: builds the navigation; every page lives in app_pages/."""

import streamlit as st

import data_access as data

st.set_page_config(page_title="Golden Thread", page_icon=":material/timeline:", layout="wide")

pages = {
    "Assurance": [
        st.Page("app_pages/ingestion.py", title="Data ingestion", icon=":material/input:", default=True),
    ],
}
nav = st.navigation(pages)

with st.sidebar:
    st.caption("Golden Thread — fire and rescue performance and assurance")
    if data.is_published():
        info = data.publish_info()
        st.caption(f"Data as of **{info.get('as_of')}** · published {info.get('published_at'):%Y-%m-%d %H:%M} UTC")
    else:
        st.caption("No data published yet: run `make pipeline`.")

nav.run()
