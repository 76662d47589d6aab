"""Forward diffusion explorer: navigation, page config and the controls every page shares."""

import streamlit as st

from pages import common, navigation

common.follow_history()
common.bind(common.LANG)
common.bind(common.HIDE)
st.set_page_config(
    page_title=common.tr("app.title"),
    page_icon="🌫️",
    layout="wide",
    initial_sidebar_state="collapsed" if common.controls_hidden() else "auto",
)
if common.controls_hidden():  # first: the sidebar of a first request may be open already
    common.hide_sidebar()

page = navigation(common.language())
common.remember_page()
common.follow_view()
common.language_selector()
st.session_state["_settings"] = common.sidebar()
notices = st.container()
with common.idle_release.running():
    page.run()
common.sync_url(notices)
