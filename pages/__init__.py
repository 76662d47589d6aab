"""The app's pages, which app.py runs through ``st.navigation``, and the code they share.

Streamlit treats a folder named ``pages/`` beside the main script as its old pages-folder mode
until the process's first ``st.navigation`` call: the first request to a fresh server gets a
menu of the files here ("app, common, histogram, …") while torch and Plotly load. Every page
script imports this package first, so its first import in that mode declares the real menu at
once, before anything heavy loads, and starts the run again through app.py.
"""

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate

# (script, title key, icon); the first is the home page
PAGES = (
    ("pages/home.py", "nav.home", "🏠"),
    ("pages/schedules.py", "nav.schedules", "📈"),
    ("pages/image_noising.py", "nav.image", "🖼️"),
    ("pages/histogram.py", "nav.histogram", "📊"),
    ("pages/signal_noise.py", "nav.signal", "📉"),
)


def navigation(language: str, *, shown: bool = True) -> StreamlitPage:
    """The menu of :data:`PAGES` in ``language`` (in the sidebar where ``shown``); returns the
    page to run."""
    return st.navigation(
        [
            st.Page(
                script, title=translate(key, language), icon=icon, default=script == PAGES[0][0]
            )
            for script, key, icon in PAGES
        ],
        position="sidebar" if shown else "hidden",
    )


def leave_pages_folder_mode() -> None:
    """Declare the real menu (in the link's language) and run again through app.py."""
    language = st.query_params.get("lang")
    # presentation mode (?hide=controls) shows no sidebar, not even while the rest loads
    shown = st.query_params.get("hide") != "controls"
    navigation(language if language in LANGUAGES else DEFAULT_LANGUAGE, shown=shown)
    st.rerun()


if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
    leave_pages_folder_mode()
