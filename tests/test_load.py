"""The load tool in small: three students against a real server, over Streamlit's protocol.

Checks that the tool really drives the app (each interaction is answered by a run that sent
deltas and finished) and that a few concurrent students cause no errors. The figures for 25 to
100 students are in BENCHMARKS.md ("Load"), measured with ``python bench/load.py``.
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.parse
import urllib.request

import pytest

from bench.load import (
    StreamlitSession,
    free_port,
    lecture_hall,
    run_load,
    streamlit_server,
    student_image,
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


def test_a_select_slider_takes_a_label(server_url):
    """A select slider's state is its option's label, as the frontend sends it."""

    async def scenario() -> None:
        session = StreamlitSession(server_url, timeout=60)
        await session.connect()
        try:
            await session.rerun(query_string="hist.n=1000")
            await session.switch_page("histogram")
            (count,) = session.find("slider", key="hist.n")
            assert "2,000" in count.proto.options
            run = await session.set_widget(count, ["2,000"])
            assert run.status == "FINISHED_SUCCESSFULLY" and run.exceptions == []
            assert urllib.parse.parse_qs(session.query_string)["hist.n"] == ["2000"]
        finally:
            await session.close()

    run_async(scenario())


def test_a_tab_switch_reruns_the_page_with_that_tab(server_url):
    """Tabs that rerun the page are a widget too: their state is the open tab's label."""

    async def scenario() -> None:
        session = StreamlitSession(server_url, timeout=60)
        await session.connect()
        try:
            await session.rerun(query_string="")
            run = await session.switch_page("schedules")
            assert len(run.plotly_specs) == 1  # only the open tab's figure
            (tabs,) = session.find("tabs", key="sch.tab")
            assert tabs.proto.options == [r"$\beta_t$", r"$\bar\alpha_t$", "log-SNR"]
            run = await session.set_widget(tabs, "log-SNR")
            assert run.status == "FINISHED_SUCCESSFULLY" and run.exceptions == []
            assert urllib.parse.parse_qs(session.query_string)["sch.tab"] == ["logsnr"]
            (spec,) = run.plotly_specs
            assert "signal-to-noise" in spec
        finally:
            await session.close()

    run_async(scenario())


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_students_behind_the_shipped_haproxy_config_stay_on_their_replica():
    async def scenario(url: str, servers: list[str]) -> None:
        for server in servers:
            await warm_up(server)
        stats = await run_load(url, students=4, duration=5, ramp=1, think=(0.2, 0.6), timeout=60)
        assert stats.errors == [] and len(stats.all_latencies) >= 8
        # An upload: the PUT reaches the replica that holds the session (by the cookie).
        session = StreamlitSession(url, timeout=60)
        await session.connect()
        try:
            assert session.cookies.get("FDE_REPLICA") in {"app1", "app2"}
            await session.rerun(query_string="")
            await session.switch_page("image_noising")
            (uploader,) = session.find("file_uploader")
            status, run = await session.upload(uploader, "student.png", student_image(1))
            assert status in (200, 204) and run is not None and run.exceptions == []
        finally:
            await session.close()

    with lecture_hall(2) as (url, pids, servers):
        assert len(pids) == 2
        run_async(scenario(url, servers))


def _cached_functions(url: str) -> list[str]:
    """The Streamlit caches (data and resource) holding entries, from the metrics endpoint."""
    with urllib.request.urlopen(f"{url}/_stcore/metrics?families=cache_memory_bytes") as reply:
        text = reply.read().decode()
    return re.findall(
        r'^cache_memory_bytes\{cache_type="st_cache_\w+",cache="([^"]+)"}', text, re.M
    )


def test_an_idle_server_empties_its_caches_and_keeps_working():
    port = free_port()
    # The metrics endpoint keeps its figures for 5 s: the release comes later, 8 s after the
    # last run, so the refilled caches are seen before the next release.
    with streamlit_server(port, env={"DIFFUSION_IDLE_RELEASE_S": "8"}):
        url = f"http://127.0.0.1:{port}"
        run_async(warm_up(url))
        deadline = time.monotonic() + 40
        cached = _cached_functions(url)
        assert any(name.endswith(".decode") for name in cached)  # the image page's upload cache
        while cached and time.monotonic() < deadline:
            time.sleep(0.5)
            cached = _cached_functions(url)
        assert cached == []

        async def visit() -> None:
            session = StreamlitSession(url, timeout=60)
            await session.connect()
            try:
                await session.rerun(query_string="")
                for page in ("image_noising", "histogram", "schedules"):
                    run = await session.switch_page(page)
                    assert run.status == "FINISHED_SUCCESSFULLY" and run.exceptions == []
                    assert run.deltas > 0
            finally:
                await session.close()

        run_async(visit())
        deadline = time.monotonic() + 7
        while not _cached_functions(url) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _cached_functions(url)  # the caches work again
