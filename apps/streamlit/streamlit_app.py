"""Golden Thread app: builds the navigation (the pages the signed-in role may use, navigation.py);
every page lives in app_pages/."""

import auth
import navigation
import streamlit as st
from data_access import connection, scope

st.set_page_config(page_title="Golden Thread", page_icon=":material/timeline:", layout="wide")
# Before anything else: no page, and so no figure, runs until someone has signed in.
user = auth.require_sign_in()

sections = navigation.pages_for(user)
first = True
pages: dict[str, list[st.Page]] = {}
for section, specs in sections.items():
    pages[section] = []
    for spec in specs:
        pages[section].append(st.Page(f"app_pages/{spec.path}.py", title=spec.title, icon=spec.icon, default=first))
        first = False
nav = st.navigation(pages)

with st.sidebar:
    st.caption("Golden Thread — fire and rescue performance and assurance")
    auth.sidebar_identity()
    if connection.is_published():
        info = connection.publish_info()
        st.caption(f"Data as of **{info.get('as_of')}** · published {info.get('published_at'):%Y-%m-%d %H:%M} UTC")
    else:
        st.caption("No data published yet: run `make pipeline`.")

try:
    nav.run()
except scope.AccessDenied as refusal:  # the data access refused: say why, show nothing more
    st.error(f"Not available to you: {refusal}", icon=":material/lock:")
