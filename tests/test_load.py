"""The load tool in small: three students against a real server, over Streamlit's protocol.

Checks that the tool really drives the app (each interaction is answered by a run that sent
deltas and finished) and that a few concurrent students cause no errors. The figures for 25 to
100 students are in BENCHMARKS.md ("Load"), measured with ``python bench/load.py``.
"""

from __future__ import annotations

import urllib.parse

import pytest

from bench.load import (
    StreamlitSession,
    free_port,
    run_load,
    streamlit_server,
    warm_up,
)
from tests.conftest import run_async

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url():
    port = free_port()
    with streamlit_server(port):
        url = f"http://127.0.0.1:{port}"
        # The first run imports torch and fills the shared caches (~10 s); time the rest.
        run_async(warm_up(url))
        yield url


def test_three_students_without_errors(server_url):
    stats = run_async(
        run_load(server_url, students=3, duration=5, ramp=1, think=(0.2, 0.6), timeout=60)
    )
    assert stats.errors == []
    assert stats.latencies["open"] and len(stats.latencies["open"]) == 3
    # Every interaction was answered by a finished run that drew something.
    assert len(stats.all_latencies) >= 6
    assert stats.runs_without_deltas == 0
    assert all(0 < latency < 60 for latency in stats.all_latencies)


def test_widget_state_and_page_switch_reach_the_script(server_url):
    async def scenario() -> None:
        session = StreamlitSession(server_url, timeout=60)
        await session.connect()
        try:
            opened = await session.rerun(query_string="")
            assert opened.status == "FINISHED_SUCCESSFULLY" and opened.deltas > 0
            assert opened.exceptions == []
            assert session.session_id
            assert {"schedules", "image_noising"} <= set(session.pages)

            # The script read the new T from the widget state and wrote it to the URL.
            (timesteps,) = session.find("number_input", key="T")
            run = await session.set_widget(timesteps, 250)
            assert run.status == "FINISHED_SUCCESSFULLY" and run.deltas > 0
            assert urllib.parse.parse_qs(session.query_string)["T"] == ["250"]

            (schedule,) = session.find("selectbox", key="schedule")
            cosine = next(label for label in schedule.proto.options if label == "Cosine")
            await session.set_widget(schedule, cosine)
            query = urllib.parse.parse_qs(session.query_string)
            assert query["schedule"] == ["cosine"] and query["T"] == ["250"]
            # The cosine schedule's own parameter widgets replaced the linear ones.
            assert session.find(key="cosine.s") and not session.find(key="linear.beta_end")

            # A page switch runs that page with the shared settings kept.
            run = await session.switch_page("schedules")
            assert run.status == "FINISHED_SUCCESSFULLY" and run.deltas > 0
            assert run.exceptions == []
            assert urllib.parse.parse_qs(session.query_string)["T"] == ["250"]
        finally:
            await session.close()

    run_async(scenario())
