"""Forward diffusion explorer: navigation, page config and the controls every page shares."""

import streamlit as st

from pages import common

common.follow_history()
common.bind(common.LANG)
common.bind(common.HIDE)
st.set_page_config(
    page_title=common.tr("app.title"),
    page_icon="🌫️",
    layout="wide",
    initial_sidebar_state="collapsed" if common.controls_hidden() else "auto",
)

page = st.navigation(
    [
        st.Page("pages/home.py", title=common.tr("nav.home"), icon="🏠", default=True),
        st.Page("pages/schedules.py", title=common.tr("nav.schedules"), icon="📈"),
        st.Page("pages/image_noising.py", title=common.tr("nav.image"), icon="🖼️"),
        st.Page("pages/histogram.py", title=common.tr("nav.histogram"), icon="📊"),
        st.Page("pages/signal_noise.py", title=common.tr("nav.signal"), icon="📉"),
    ]
)
common.remember_page()
common.follow_view()
common.language_selector()
st.session_state["_settings"] = common.sidebar()
if common.controls_hidden():
    common.hide_sidebar()
notices = st.container()
with common.idle_release.running():
    page.run()
common.sync_url(notices)
