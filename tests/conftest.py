"""Shared test helpers."""

import asyncio
import pathlib
from concurrent.futures import ThreadPoolExecutor

import pytest

try:
    from streamlit.runtime.pages_manager import PagesManager
except ModuleNotFoundError:  # a core-only machine (a GPU box without the web stack): core tests
    PagesManager = None

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def run_async(coroutine):
    """``asyncio.run`` in a thread of its own.

    The browser tests' Playwright (sync API) keeps an event loop running in the main thread for
    the whole session, and asyncio.run refuses to start inside a running loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


_original_init = PagesManager.__init__ if PagesManager is not None else None


def _navigation_pages_manager_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    # AppTest resets this flag before every run, and a folder named pages/ beside app.py then
    # makes reruns execute the page file alone (the old pages-folder mode), skipping app.py's
    # st.navigation and shared sidebar. The real server clears the flag on the first
    # st.navigation call, so AppTest is made to do the same.
    PagesManager.uses_pages_directory = False


def pytest_collection_modifyitems(items):
    """Docker tests last: they take the longest and need the most set-up."""
    items.sort(key=lambda item: item.get_closest_marker("docker") is not None)


@pytest.fixture(autouse=True)
def _apptest_runs_app_py_on_every_rerun(monkeypatch):
    if PagesManager is not None:
        monkeypatch.setattr(PagesManager, "__init__", _navigation_pages_manager_init)
