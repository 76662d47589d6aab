"""What the page tests share: open a page under AppTest, read its charts, texts and downloads."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from tests.conftest import APP


def app(page: str, **query: str) -> AppTest:
    """The app with ``query`` in its address, switched to ``page`` (not run yet)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(page)


def open_page(page: str, **query: str) -> AppTest:
    """:func:`app`, run once."""
    return app(page, **query).run()


def charts(at: AppTest) -> list[dict]:
    """The plotly specs the last run sent, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A trace's x or y from a chart spec (plotly sends numpy arrays as base64 "bdata")."""
    if isinstance(value, dict):
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if "shape" in value:
            data = data.reshape([int(n) for n in str(value["shape"]).split(",")])
        return data
    return np.asarray(value, dtype=np.float64)


def texts(elements) -> str:
    return " ".join(str(element.value) for element in elements)


def record_deferred_downloads(monkeypatch) -> dict[str, object]:
    """file name -> deferred data callable of every download button of the runs that follow."""
    seen: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen
